-- Sessions, people, touchpoints and identity links are derived from committed events by the DerivedUpdater,
-- asynchronously and coalesced (issue 3: the ingest statement stays lean). After a crash, events received
-- since applied_until are re-derived at start; the re-derivation is idempotent.
CREATE TABLE derived_progress (
  id             integer PRIMARY KEY CHECK (id = 1),
  applied_until  timestamptz NOT NULL
);

TRUNCATE touchpoints;
ALTER TABLE touchpoints ADD COLUMN event_id uuid NOT NULL;
CREATE UNIQUE INDEX touchpoints_project_event ON touchpoints (project_id, event_id);
