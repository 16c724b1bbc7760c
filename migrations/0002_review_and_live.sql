-- Spaced repetition (FSRS) and live channel quizzes.

-- Review attempts mix questions from several chapters: chapter 0 marks them.
ALTER TABLE quiz_attempts ADD COLUMN kind TEXT NOT NULL DEFAULT 'quiz' CHECK (kind IN ('quiz', 'review'));

-- One FSRS card per user and question. The fields live in columns for queries, and the
-- whole card as JSON with the fsrs version that wrote it, since stored dicts have broken
-- across fsrs versions before.
CREATE TABLE review_cards (
    user_pk      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    question_key TEXT NOT NULL,
    due          TEXT NOT NULL,
    state        INTEGER NOT NULL,
    step         INTEGER,
    stability    REAL,
    difficulty   REAL,
    last_review  TEXT,
    reviews      INTEGER NOT NULL DEFAULT 0,
    card_json    TEXT NOT NULL,
    fsrs_version TEXT NOT NULL,
    PRIMARY KEY (user_pk, question_key)
);
CREATE INDEX review_cards_due ON review_cards(user_pk, due);

-- Hints asked for, per attempt and question, before answering.
CREATE TABLE quiz_hints (
    attempt_id INTEGER NOT NULL REFERENCES quiz_attempts(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    shown_at   TEXT NOT NULL,
    PRIMARY KEY (attempt_id, position)
);

-- A live quiz in a channel. Its whole state is here, so a restart resumes it: `phase` is
-- 'question' (answers open until phase_ends_at), 'reveal' (until the next question) or 'ended'.
CREATE TABLE live_sessions (
    id               INTEGER PRIMARY KEY,
    platform         TEXT NOT NULL,
    guild            TEXT NOT NULL,
    channel          TEXT NOT NULL,
    chapter          INTEGER NOT NULL,
    starter_pk       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    question_keys    TEXT NOT NULL,
    seed             INTEGER NOT NULL,
    question_seconds INTEGER NOT NULL,
    reveal_seconds   INTEGER NOT NULL,
    current          INTEGER NOT NULL DEFAULT 0,
    phase            TEXT NOT NULL CHECK (phase IN ('question', 'reveal', 'ended')),
    phase_started_at TEXT NOT NULL,
    phase_ends_at    TEXT,
    started_at       TEXT NOT NULL,
    ended_at         TEXT,
    end_reason       TEXT
);
-- At most one running session per channel.
CREATE UNIQUE INDEX live_sessions_running ON live_sessions(platform, guild, channel) WHERE phase != 'ended';

-- One answer per participant per question: the primary key is what makes a burst of
-- simultaneous clicks count exactly once each.
CREATE TABLE live_answers (
    session_id     INTEGER NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    question_index INTEGER NOT NULL,
    user_pk        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    answer         TEXT NOT NULL,
    correct        INTEGER NOT NULL,
    points         INTEGER NOT NULL,
    answered_at    TEXT NOT NULL,
    PRIMARY KEY (session_id, question_index, user_pk)
);
