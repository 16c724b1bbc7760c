-- The Slack adapter's own state, so a restart neither repeats work nor loses its messages.
-- slack_live_messages: the channel message (ts) that shows each live quiz question, updated in
-- place with chat.update for the reveal even when the reveal happens after a restart.
-- slack_seen: Events API event ids already handled; a redelivery (X-Slack-Retry-Num) after a
-- restart is still recognised. Old rows are pruned by the adapter.
CREATE TABLE slack_live_messages (
    session_id INTEGER NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    question_index INTEGER NOT NULL,
    channel TEXT NOT NULL,
    ts TEXT NOT NULL,
    question_blocks TEXT,  -- the question as shown (JSON blocks, without its buttons), kept above the reveal
    PRIMARY KEY (session_id, question_index)
);

CREATE TABLE slack_seen (
    id TEXT PRIMARY KEY,
    seen_at TEXT NOT NULL
);
CREATE INDEX slack_seen_time ON slack_seen(seen_at);
