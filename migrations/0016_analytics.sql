-- What the instructor's statistics read, stored in the shape they read it when it is written
-- (bot/core/analytics), so `/course stats` at 10,000 students reads one row per attempt instead
-- of folding every answer again on each command:
--
-- quiz_attempts.questions: how many questions the attempt asks (the length of its JSON
--   `question_keys`), written when the attempt starts (bot/core/quiz.py). Progress reads it for
--   every finished attempt of a class (best score, pass); parsing 50,000 JSON lists cost more
--   than reading them. Back-filled here by counting the keys' quotes: keys are `N:id` with ids
--   of lowercase letters, digits and hyphens (questions.py), so each key is exactly two quotes,
--   and no JSON function is needed (SQLite's and PostgreSQL's differ).
-- quiz_attempt_masks: a finished attempt's answers folded into bit masks, per word of 32
--   positions (bit p % 32 of word p / 32): right, hinted, answered. Written in the transaction
--   that finishes the attempt (quiz.py, `record_masks`); answers are never changed after that.
--   Back-filled here for every finished attempt. The rows go with their attempt (pruning,
--   forget-me, an instructor's reset) by the cascade.
-- quiz_answers_question: one question's answers found by attempt and key (`/course question`:
--   the best attempts' answers to it, and every attempt's), instead of walking each attempt's
--   31 answers for the one that matches. `correct` is in it, so counting reads the index alone.
ALTER TABLE quiz_attempts ADD COLUMN questions INTEGER;
UPDATE quiz_attempts SET questions = (LENGTH(question_keys) - LENGTH(REPLACE(question_keys, '"', ''))) / 2;

CREATE TABLE quiz_attempt_masks (
    attempt_id    INTEGER NOT NULL REFERENCES quiz_attempts(id) ON DELETE CASCADE,
    word          INTEGER NOT NULL,
    right_mask    INTEGER NOT NULL,
    hint_mask     INTEGER NOT NULL,
    answered_mask INTEGER NOT NULL,
    PRIMARY KEY (attempt_id, word)
);
INSERT INTO quiz_attempt_masks(attempt_id, word, right_mask, hint_mask, answered_mask)
SELECT a.attempt_id, a.position / 32, SUM(CAST(a.correct AS BIGINT) << CAST(a.position % 32 AS INT)),
       SUM(CAST(a.hint_used AS BIGINT) << CAST(a.position % 32 AS INT)), SUM(CAST(1 AS BIGINT) << CAST(a.position % 32 AS INT))
FROM quiz_answers a JOIN quiz_attempts t ON t.id = a.attempt_id
WHERE t.status = 'finished'
GROUP BY a.attempt_id, a.position / 32;

CREATE INDEX quiz_answers_question ON quiz_answers(attempt_id, question_key, correct);
