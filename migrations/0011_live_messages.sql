-- One table, for every platform, of the channel message that shows each live quiz question, so
-- any process can close (Discord: remove its buttons) or reveal (Slack: chat.update in place)
-- a question posted before a restart. `message_id` is the platform's own id (a Discord message
-- id, a Slack ts); `rendering` is the question as the platform showed it, kept where the reveal
-- needs it (Slack: the JSON blocks without their buttons, kept above the reveal). Rows go once
-- their session has ended (bot/core/live_messages.py). Slack's own table moves here.
CREATE TABLE live_messages (
    session_id INTEGER NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    question_index INTEGER NOT NULL,
    platform TEXT NOT NULL,
    channel TEXT NOT NULL,
    message_id TEXT NOT NULL,
    rendering TEXT,
    PRIMARY KEY (session_id, question_index)
);

INSERT INTO live_messages(session_id, question_index, platform, channel, message_id, rendering)
    SELECT session_id, question_index, 'slack', channel, ts, question_blocks FROM slack_live_messages;
DROP TABLE slack_live_messages;
