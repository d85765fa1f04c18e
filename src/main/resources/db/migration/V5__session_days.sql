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
