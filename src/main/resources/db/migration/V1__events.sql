-- Raw events, partitioned by (corrected) event time. Every row carries its project.
CREATE TABLE events (
  project_id    text             NOT NULL,
  id            uuid             NOT NULL,
  ts            timestamptz      NOT NULL,
  received_at   timestamptz      NOT NULL,
  type          text             NOT NULL,
  category      text,
  action        text,
  label         text,
  value         double precision,
  session_id    text,
  user_id       text,
  anonymous_id  text,
  properties    jsonb,
  page          jsonb,
  user_context  jsonb,
  flags         integer          NOT NULL DEFAULT 0
) PARTITION BY RANGE (ts);

-- Catches events whose day has no partition yet (far back-dated ones); rows move out when the day gets one.
CREATE TABLE events_default PARTITION OF events DEFAULT;

CREATE INDEX events_project_type_ts ON events (project_id, type, ts);
CREATE INDEX events_project_user_ts ON events (project_id, user_id, ts);

-- Dedupe registry. A unique index on the partitioned table would have to include ts, and a retried event may
-- carry a different server-corrected ts, so uniqueness of (project, id) lives here, unpartitioned.
CREATE TABLE event_ids (
  project_id  text         NOT NULL,
  id          uuid         NOT NULL,
  first_seen  timestamptz  NOT NULL,
  PRIMARY KEY (project_id, id)
);
CREATE INDEX event_ids_first_seen ON event_ids USING brin (first_seen);

-- Creates the daily partition holding `day` (UTC) if missing, moving any rows already caught by the default
-- partition into it. Serialised by an advisory lock so concurrent servers cannot race.
CREATE FUNCTION tally_ensure_partition(day date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  part text := 'events_p' || to_char(day, 'YYYYMMDD');
  lo   timestamptz := day::timestamp AT TIME ZONE 'UTC';
  hi   timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
  PERFORM pg_advisory_xact_lock(73110001);
  IF to_regclass(part) IS NOT NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
  EXECUTE format('WITH moved AS (DELETE FROM events_default WHERE ts >= %L AND ts < %L RETURNING *) '
                 'INSERT INTO %I SELECT * FROM moved', lo, hi, part);
  EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  RETURN true;
END
$$;
