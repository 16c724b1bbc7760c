-- The chat assistant's memory: each user's recent messages (so follow-ups like "And in French?"
-- work, across restarts too) and which model they chat with. Kept per user, capped by
-- COMPANION_HISTORY_TURNS, exported by /my-data and deleted by /forget-me with the user row.

CREATE TABLE conversation_turns (
    id         INTEGER PRIMARY KEY,
    user_pk    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    mode       TEXT NOT NULL CHECK (mode IN ('assistant', 'base', 'compare')),
    text       TEXT NOT NULL,
    -- For the assistant's turns: what it understood (skill and arguments, JSON), which a
    -- follow-up reuses.
    meta       TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX conversation_turns_user ON conversation_turns(user_pk, id);

CREATE TABLE chat_modes (
    user_pk    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    mode       TEXT NOT NULL CHECK (mode IN ('assistant', 'base')),
    updated_at TEXT NOT NULL
);
