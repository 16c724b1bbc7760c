-- Indexes on the user columns that lacked one. A user's live quiz points (progress view) and
-- ON DELETE CASCADE / SET NULL on forget-me both look rows up by user; without these they scan
-- every live answer ever given.
CREATE INDEX live_answers_user ON live_answers(user_pk);
CREATE INDEX live_sessions_starter ON live_sessions(starter_pk);
