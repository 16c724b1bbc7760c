-- The class RLHF lab (bot/core/lab/): what students write, rank and flag, per class.
-- A class is one server or workspace: `scope` is `platform:guild` (`console:local` for the
-- console), the same key as memberships.guild. Every row a student made references users(id)
-- with ON DELETE CASCADE, so /forget-me removes it, and the pairs built from it go with it.

-- Instructions students propose for demonstrations (the content's own come from lab.yaml).
CREATE TABLE lab_instructions (
    id         INTEGER PRIMARY KEY,
    scope      TEXT NOT NULL,
    user_pk    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chapter    INTEGER NOT NULL,
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX lab_instructions_scope ON lab_instructions(scope, chapter);

-- A demonstration (phase 1 data): the response a student would want for an instruction.
-- `instruction_key` is `c:<content id>` or `p:<lab_instructions.id>`; the instruction's text is
-- kept as shown, so the SFT export stands alone. `status`: 'pool' (usable), 'flagged' (out of
-- the pool until an instructor reviews it), 'removed' (an instructor removed it).
CREATE TABLE lab_demonstrations (
    id              INTEGER PRIMARY KEY,
    scope           TEXT NOT NULL,
    user_pk         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chapter         INTEGER NOT NULL,
    instruction_key TEXT NOT NULL,
    instruction     TEXT NOT NULL,
    response        TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pool' CHECK (status IN ('pool', 'flagged', 'removed')),
    created_at      TEXT NOT NULL
);
CREATE INDEX lab_demonstrations_scope ON lab_demonstrations(scope, status);

-- A ranking task (phase 2 data): a prompt and 2-4 candidates, shown to one student. It is
-- 'open' until they send their order (best first) and its tags, then 'done'.
CREATE TABLE lab_rankings (
    id         INTEGER PRIMARY KEY,
    scope      TEXT NOT NULL,
    user_pk    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chapter    INTEGER NOT NULL,
    prompt     TEXT NOT NULL,
    tags       TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at TEXT NOT NULL,
    ranked_at  TEXT
);
CREATE INDEX lab_rankings_user ON lab_rankings(user_pk, status);

-- The candidates of a ranking, in the order shown (`slot` 0 is A); `rank` (0 = best) once ranked.
-- A candidate that is a classmate's demonstration goes with that demonstration.
CREATE TABLE lab_ranking_items (
    ranking_id       INTEGER NOT NULL REFERENCES lab_rankings(id) ON DELETE CASCADE,
    slot             INTEGER NOT NULL,
    source           TEXT NOT NULL,
    text             TEXT NOT NULL,
    demonstration_id INTEGER REFERENCES lab_demonstrations(id) ON DELETE CASCADE,
    rank             INTEGER,
    PRIMARY KEY (ranking_id, slot)
);

-- Preference pairs: `chosen` preferred to `rejected` for `prompt` by the student `user_pk`.
-- A ranking of k candidates yields k(k-1)/2 of them; a live lab vote yields one. A pair whose
-- response is a demonstration goes when the demonstration does, and is left out of the model
-- and the export while that demonstration is flagged.
CREATE TABLE lab_pairs (
    id            INTEGER PRIMARY KEY,
    scope         TEXT NOT NULL,
    user_pk       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ranking_id    INTEGER REFERENCES lab_rankings(id) ON DELETE CASCADE,
    session_id    INTEGER REFERENCES live_sessions(id) ON DELETE CASCADE,
    prompt        TEXT NOT NULL,
    chosen        TEXT NOT NULL,
    rejected      TEXT NOT NULL,
    chosen_demo   INTEGER REFERENCES lab_demonstrations(id) ON DELETE CASCADE,
    rejected_demo INTEGER REFERENCES lab_demonstrations(id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL
);
CREATE INDEX lab_pairs_scope ON lab_pairs(scope);
CREATE INDEX lab_pairs_user ON lab_pairs(user_pk);

-- A student's flag on a demonstration (spam, harmful, off-topic), once per student and
-- demonstration; `decision` ('keep' or 'remove') once an instructor of the same class reviewed it.
CREATE TABLE lab_flags (
    demonstration_id INTEGER NOT NULL REFERENCES lab_demonstrations(id) ON DELETE CASCADE,
    user_pk          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason           TEXT NOT NULL CHECK (reason IN ('spam', 'harmful', 'off-topic')),
    created_at       TEXT NOT NULL,
    decision         TEXT CHECK (decision IN ('keep', 'remove')),
    reviewed_at      TEXT,
    PRIMARY KEY (demonstration_id, user_pk)
);

-- A live session's rounds come from a source: the quiz's questions (`quiz`), or the lab's pairs
-- (`lab`: each of its question_keys is one round, a prompt with responses A and B, kept whole so
-- a restart shows the same pair). A lab vote is a live_answers row (one per person and round),
-- and the pair it yields is in lab_pairs with its session_id.
ALTER TABLE live_sessions ADD COLUMN source TEXT NOT NULL DEFAULT 'quiz';
