-- Data lifecycle and privacy (issue 8).

-- Every id of a deleted person, as sha256(project_id || ':' || id) in hex: applied when an archive is restored, and
-- (when suppress) to drop that id's future events. Only hashes are kept, so the list itself names nobody.
CREATE TABLE privacy_deletions (
  project_id  text        NOT NULL,
  id_hash     text        NOT NULL,
  suppress    boolean     NOT NULL,
  deleted_at  timestamptz NOT NULL,
  PRIMARY KEY (project_id, id_hash)
);

-- What the retention job did, one row per run and project-day (audit; holds no personal data).
CREATE TABLE lifecycle_log (
  at          timestamptz NOT NULL DEFAULT now(),
  project_id  text,
  day         date,
  action      text        NOT NULL,
  rows        bigint      NOT NULL,
  detail      text
);
CREATE INDEX lifecycle_log_at ON lifecycle_log USING brin (at);

-- The projects present in one partition, by skipping through the (project_id, type, ts) index (a loose index scan:
-- a few index probes per project instead of reading every row).
CREATE FUNCTION tally_partition_projects(part regclass) RETURNS SETOF text LANGUAGE plpgsql STABLE AS $$
DECLARE
  cur text;
BEGIN
  EXECUTE format('SELECT min(project_id) FROM %s', part) INTO cur;
  WHILE cur IS NOT NULL LOOP
    RETURN NEXT cur;
    EXECUTE format('SELECT min(project_id) FROM %s WHERE project_id > $1', part) INTO cur USING cur;
  END LOOP;
END
$$;

-- Restored project-days the retention job leaves alone until `until` (else it would archive them again at once).
CREATE TABLE lifecycle_holds (
  project_id  text        NOT NULL,
  day         date        NOT NULL,
  until       timestamptz NOT NULL,
  PRIMARY KEY (project_id, day)
);
