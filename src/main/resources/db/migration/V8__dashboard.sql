-- The dashboard's saved things (issue 7), per project: named segments (filter sets) and funnel definitions.
CREATE TABLE dashboard_segments (
  project_id  text        NOT NULL,
  name        text        NOT NULL,
  filters     jsonb       NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, name)
);

CREATE TABLE dashboard_funnels (
  project_id  text        NOT NULL,
  name        text        NOT NULL,
  definition  jsonb       NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, name)
);
