-- Users, what they read, and their solo quiz attempts.
-- A user is (platform, user_id); every other row points at users.id and is deleted with it,
-- so "forget me" is one DELETE that really removes everything about a person.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    platform        TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    preferred_depth TEXT NOT NULL DEFAULT 'shallow' CHECK (preferred_depth IN ('shallow', 'deep')),
    created_at      TEXT NOT NULL,
    UNIQUE (platform, user_id)
);

-- The guilds / workspaces a user has been seen in: leaderboards are per place.
CREATE TABLE memberships (
    user_pk INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    guild   TEXT NOT NULL,
    PRIMARY KEY (user_pk, guild)
);
CREATE INDEX memberships_guild ON memberships(guild);

-- Where each user is in each chapter's lesson.
CREATE TABLE reading_positions (
    user_pk    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chapter    INTEGER NOT NULL,
    depth      TEXT NOT NULL CHECK (depth IN ('shallow', 'deep')),
    page       INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_pk, chapter)
);

CREATE TABLE pages_read (
    user_pk       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chapter       INTEGER NOT NULL,
    depth         TEXT NOT NULL CHECK (depth IN ('shallow', 'deep')),
    page          INTEGER NOT NULL,
    first_read_at TEXT NOT NULL,
    PRIMARY KEY (user_pk, chapter, depth, page)
);

-- One row per UTC day with any activity: the streak is read from it.
CREATE TABLE activity_days (
    user_pk INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day     TEXT NOT NULL,
    PRIMARY KEY (user_pk, day)
);

-- A solo quiz attempt: its questions are fixed (and shuffled with `seed`) when it starts,
-- so a restart resumes it at `position` exactly.
CREATE TABLE quiz_attempts (
    id            INTEGER PRIMARY KEY,
    user_pk       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chapter       INTEGER NOT NULL,
    depth         TEXT CHECK (depth IN ('shallow', 'deep')),
    seed          INTEGER NOT NULL,
    question_keys TEXT NOT NULL,
    position      INTEGER NOT NULL DEFAULT 0,
    correct       INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'finished', 'abandoned')),
    started_at    TEXT NOT NULL,
    finished_at   TEXT
);
CREATE INDEX quiz_attempts_user ON quiz_attempts(user_pk, status);

-- One answer per question of an attempt: the primary key makes a double click count once.
CREATE TABLE quiz_answers (
    attempt_id   INTEGER NOT NULL REFERENCES quiz_attempts(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    question_key TEXT NOT NULL,
    answer       TEXT NOT NULL,
    correct      INTEGER NOT NULL,
    hint_used    INTEGER NOT NULL DEFAULT 0,
    answered_at  TEXT NOT NULL,
    PRIMARY KEY (attempt_id, position)
);
