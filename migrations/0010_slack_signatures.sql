-- Slack HTTP mode: the signatures of requests already accepted, so a signed request replayed
-- within Slack's 5-minute window is refused (by any process on this database). A row is
-- useless once its timestamp leaves the window (`expires_at`, epoch seconds); the adapter
-- prunes those rows as it inserts.
CREATE TABLE slack_signatures (
    signature TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX slack_signatures_expiry ON slack_signatures(expires_at);
