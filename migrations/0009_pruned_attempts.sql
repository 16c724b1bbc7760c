-- Bounded growth: old quiz attempts are pruned (bot/core/quiz.py, prune_attempts), keeping each
-- chapter's best attempts and the latest ones. The latest kept finished attempt of a chapter
-- carries how many finished attempts were pruned before it, so `/progress` still counts every
-- attempt a student made; it goes with the attempts (forget-me, an instructor's reset).
ALTER TABLE quiz_attempts ADD COLUMN pruned_before INTEGER NOT NULL DEFAULT 0;
