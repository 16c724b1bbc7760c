-- Deliveries already handled, under platform-neutral names (bot/core/seen_events.py), so any
-- adapter (and, later, every replica on one database) recognises a redelivery:
-- seen_events: event ids a platform redelivers (Slack's Events API retries), per platform;
--   rows older than a day are pruned.
-- seen_signatures: signatures of signed requests already accepted (Slack HTTP mode), refused
--   if replayed; a row goes once its timestamp leaves the platform's window (`expires_at`,
--   epoch seconds).
-- Slack's tables move here.
CREATE TABLE seen_events (
    platform TEXT NOT NULL,
    event_id TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (platform, event_id)
);
CREATE INDEX seen_events_time ON seen_events(seen_at);
INSERT INTO seen_events(platform, event_id, seen_at) SELECT 'slack', id, seen_at FROM slack_seen;
DROP TABLE slack_seen;

CREATE TABLE seen_signatures (
    signature TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX seen_signatures_expiry ON seen_signatures(expires_at);
INSERT INTO seen_signatures(signature, expires_at) SELECT signature, expires_at FROM slack_signatures;
DROP TABLE slack_signatures;
