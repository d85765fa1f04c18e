-- Fewer index writes per derived flush (each flush upserts about one sessions, one users and one user_daily row per
-- event under a load where nearly every event is a different person).
--
-- user_daily: the primary key now leads with the person, so the re-read of one person-day, a person's export and
-- deletion use it directly, and the separate (project_id, user_key, day) index is no longer needed: one B-tree
-- insert per new row instead of two. Day ranges (pattern SQL, retention) use a BRIN index on day, which rows
-- arriving in time order keep tight and which costs next to nothing to maintain.
ALTER TABLE user_daily DROP CONSTRAINT user_daily_pkey;
DROP INDEX user_daily_user;
ALTER TABLE user_daily ADD PRIMARY KEY (project_id, user_key, day, type, provider, model, feature);
CREATE INDEX user_daily_day ON user_daily USING brin (day);

-- sessions and users are updated in place by every flush that sees their person again: leave room on each page so
-- that those updates stay heap-only (HOT: no new entry in any of their indexes).
ALTER TABLE sessions SET (fillfactor = 80);
ALTER TABLE users SET (fillfactor = 80);
