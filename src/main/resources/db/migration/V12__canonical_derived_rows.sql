-- Every derived value becomes a function of the stored events alone, whatever order they arrive in, so that the
-- incremental flush, a crash repair and a from-scratch re-derivation agree. "First" and "last" values keep the time
-- (and, where two events may share it, the event id) of the event they come from, so a late event can replace them.

ALTER TABLE sessions
  ADD COLUMN entry_at          timestamptz,
  ADD COLUMN exit_at           timestamptz,
  ADD COLUMN context_at        timestamptz,
  ADD COLUMN context_event     uuid,
  ADD COLUMN attribution_at    timestamptz,
  ADD COLUMN attribution_event uuid;

-- traits: for each key, the value of the latest event that set it, as {key: [epoch µs, event id, value]}; the
-- readable {key: value} is generated from it
CREATE FUNCTION tally_traits_value(src jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN src IS NULL THEN NULL
              ELSE coalesce((SELECT jsonb_object_agg(k, v -> 2) FROM jsonb_each(src) AS t(k, v)), '{}'::jsonb) END
$$;

CREATE FUNCTION tally_traits_merge(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a ELSE
    (SELECT jsonb_object_agg(k, v) FROM (
       SELECT DISTINCT ON (k) k, v FROM (SELECT * FROM jsonb_each(a) UNION ALL SELECT * FROM jsonb_each(b)) x(k, v)
       ORDER BY k, (v ->> 0)::int8 DESC, (v ->> 1)::uuid DESC) y) END
$$;

-- the union of several sources (one per flushed aggregate of a person)
CREATE AGGREGATE tally_traits_union(jsonb) (SFUNC = tally_traits_merge, STYPE = jsonb);

ALTER TABLE users ADD COLUMN traits_src jsonb;
-- traits stored before are kept, as set by an unknown earlier event
UPDATE users SET traits_src = (SELECT jsonb_object_agg(k, jsonb_build_array(0, '00000000-0000-0000-0000-000000000000', v))
                               FROM jsonb_each(traits) AS t(k, v))
WHERE jsonb_typeof(traits) = 'object';
ALTER TABLE users DROP COLUMN traits;
-- (the function, which PostgreSQL cannot inline, runs only for the rows that have traits)
ALTER TABLE users ADD COLUMN traits jsonb
  GENERATED ALWAYS AS (CASE WHEN traits_src IS NULL THEN NULL ELSE tally_traits_value(traits_src) END) STORED;

ALTER TABLE users
  ADD COLUMN first_touch_at    timestamptz,
  ADD COLUMN first_touch_event uuid,
  ADD COLUMN last_touch_at     timestamptz,
  ADD COLUMN last_touch_event  uuid;

-- whether (a_at, a) comes strictly before (b_at, b): a missing a never does, a missing b always is later
CREATE FUNCTION tally_first(a_at timestamptz, a text, b_at timestamptz, b text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT a_at IS NOT NULL AND (b_at IS NULL OR (a_at, a COLLATE "C") < (b_at, b COLLATE "C"))
$$;

CREATE FUNCTION tally_first(a_at timestamptz, a uuid, b_at timestamptz, b uuid) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT a_at IS NOT NULL AND (b_at IS NULL OR (a_at, a) < (b_at, b))
$$;

-- whether (a_at, a) comes strictly after (b_at, b): a missing a never does, a missing b always is earlier
CREATE FUNCTION tally_last(a_at timestamptz, a text, b_at timestamptz, b text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT a_at IS NOT NULL AND (b_at IS NULL OR (a_at, a COLLATE "C") > (b_at, b COLLATE "C"))
$$;

CREATE FUNCTION tally_last(a_at timestamptz, a uuid, b_at timestamptz, b uuid) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT a_at IS NOT NULL AND (b_at IS NULL OR (a_at, a) > (b_at, b))
$$;

-- a link's creation time: links created in the last minute are re-applied to events an insert running concurrently
-- with the link stored under the anonymous id
ALTER TABLE identities ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

-- derived rows the flush or the start-up repair could not write: set aside with their error, never retried blindly
CREATE TABLE derived_dead_letters (
  target      text        NOT NULL,
  key_hash    text        NOT NULL,
  row_key     text        NOT NULL,
  project_id  text,
  stage       text        NOT NULL,
  first_at    timestamptz NOT NULL DEFAULT now(),
  last_at     timestamptz NOT NULL DEFAULT now(),
  times       integer     NOT NULL DEFAULT 1,
  sqlstate    text,
  error       text        NOT NULL,
  detail      text,
  PRIMARY KEY (target, key_hash)
);

-- inserts the rows of a query into a table one at a time, each in a subtransaction: a row the table refuses is set
-- aside (with its key, error and content) and the others are written; returns how many were set aside. Used only for
-- a key whose rows, inserted together, were refused.
CREATE FUNCTION tally_insert_each(p_target text, p_cols text, p_keys text[], p_rows text, p_stage text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
  k text;
  refused integer := 0;
BEGIN
  FOR r IN EXECUTE format('SELECT to_jsonb(q) FROM (%s) q', p_rows) LOOP
    BEGIN
      EXECUTE format('INSERT INTO %I (%s) SELECT %s FROM jsonb_populate_record(NULL::%I, $1)', p_target, p_cols,
                     p_cols, p_target) USING r;
    EXCEPTION WHEN OTHERS THEN
      refused := refused + 1;
      k := coalesce((SELECT string_agg(coalesce(r ->> u.x, ''), ' | ' ORDER BY u.o)
                     FROM unnest(p_keys) WITH ORDINALITY AS u(x, o)), '?');
      INSERT INTO derived_dead_letters AS d (target, key_hash, row_key, project_id, stage, sqlstate, error, detail)
      VALUES (p_target, md5(k), left(k, 4000), r ->> 'project_id', p_stage, SQLSTATE, SQLERRM, left(r::text, 4000))
      ON CONFLICT ON CONSTRAINT derived_dead_letters_pkey DO UPDATE SET last_at = now(), times = d.times + 1,
        stage = excluded.stage, sqlstate = excluded.sqlstate, error = excluded.error, detail = excluded.detail;
    END;
  END LOOP;
  RETURN refused;
END
$$;

-- the watermark always exists; derived rows written by earlier releases followed other rules: the next start
-- re-derives everything (logged with its progress)
INSERT INTO derived_progress (id, applied_until) VALUES (1, '-infinity') ON CONFLICT (id) DO NOTHING;
UPDATE derived_progress SET applied_until = '-infinity'
WHERE EXISTS (SELECT 1 FROM sessions) OR EXISTS (SELECT 1 FROM users);

-- the start-up repair reads the events received since the watermark: a block-range index finds them without a scan
-- of every partition (rows arrive in receipt order, so the ranges are tight; its upkeep is a few bytes per block)
CREATE INDEX events_received_brin ON events USING brin (received_at);

-- a JSON number double precision cannot hold (1e309, 1e-400, stored before the ingest bounds existed) reads as no
-- number, as in the ingest path's measures, instead of failing every query and re-derivation that sums it
CREATE OR REPLACE FUNCTION tally_num(j jsonb, k text) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(j -> k) = 'number'
               AND abs((j ->> k)::numeric) <= 1e300 AND (abs((j ->> k)::numeric) >= 1e-300 OR (j ->> k)::numeric = 0)
              THEN (j ->> k)::double precision END
$$;
