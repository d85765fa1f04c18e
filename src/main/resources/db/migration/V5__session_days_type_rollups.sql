-- Sessions per UTC start day: count, total duration, bounces. Kept exact by the flush (each upserted session adds
-- its new contribution and removes its previous one), rebuilt for touched days by the crash repair.
CREATE TABLE session_days (
  project_id    text   NOT NULL,
  day           date   NOT NULL,
  sessions      bigint NOT NULL,
  duration_sum  bigint NOT NULL,
  bounces       bigint NOT NULL,
  PRIMARY KEY (project_id, day)
);
INSERT INTO session_days
SELECT project_id, (started_at AT TIME ZONE 'UTC')::date, count(*), coalesce(sum(duration_ms), 0),
       count(*) FILTER (WHERE bounce)
FROM sessions GROUP BY 1, 2;

-- The hourly and daily rollups summed over every dimension but the type (dimension columns hold ''): what
-- unfiltered figures and per-type series read (a few rows per hour instead of hundreds).
CREATE TABLE rollup_hourly_t (LIKE rollup_hourly INCLUDING ALL);
INSERT INTO rollup_hourly_t
SELECT project_id, hour, type, '', '', '', '', '', sum(events), sum(tokens), sum(cost), sum(amount), sum(rt_sum),
       sum(rt_n), sum(dur_sum), sum(dur_n)
FROM rollup_hourly GROUP BY 1, 2, 3;
CREATE TABLE rollup_daily_t (LIKE rollup_daily INCLUDING ALL);
INSERT INTO rollup_daily_t
SELECT project_id, day, type, '', '', '', '', '', sum(events), sum(tokens), sum(cost), sum(amount), sum(rt_sum),
       sum(rt_n), sum(dur_sum), sum(dur_n)
FROM rollup_daily GROUP BY 1, 2, 3;
