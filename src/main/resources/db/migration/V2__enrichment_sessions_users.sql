-- What the server derives on ingestion (issue 4): device/browser/location context, attribution, bot flag.
ALTER TABLE events
  ADD COLUMN context      jsonb,
  ADD COLUMN attribution  jsonb,
  ADD COLUMN country      text,
  ADD COLUMN device_type  text,
  ADD COLUMN browser      text,
  ADD COLUMN ip           text,
  ADD COLUMN is_bot       boolean NOT NULL DEFAULT false;

-- Finds the anonymous history to hand over when an anonymous id is linked to a user.
CREATE INDEX events_project_anon ON events (project_id, anonymous_id) WHERE user_id IS NULL AND anonymous_id IS NOT NULL;

-- Sessions, maintained by the writer in the same statement that stores their events (bots excluded).
CREATE TABLE sessions (
  project_id       text        NOT NULL,
  session_id       text        NOT NULL,
  user_id          text,
  anonymous_id     text,
  started_at       timestamptz NOT NULL,
  ended_at         timestamptz NOT NULL,
  duration_ms      bigint GENERATED ALWAYS AS ((extract(epoch FROM ended_at - started_at) * 1000)::bigint) STORED,
  event_count      integer     NOT NULL,
  page_count       integer     NOT NULL,
  entry_page       text,
  exit_page        text,
  bounce           boolean GENERATED ALWAYS AS (ended_at - started_at < interval '30 seconds') STORED,
  context          jsonb,
  attribution      jsonb,
  country          text,
  device_type      text,
  browser          text,
  server_assigned  boolean     NOT NULL DEFAULT false,
  PRIMARY KEY (project_id, session_id)
);
CREATE INDEX sessions_project_user ON sessions (project_id, user_id, started_at);
CREATE INDEX sessions_project_anon ON sessions (project_id, anonymous_id) WHERE user_id IS NULL;
CREATE INDEX sessions_project_start ON sessions (project_id, started_at);

-- People: a user id, or an anonymous id not (yet) linked to one.
CREATE TABLE users (
  project_id   text        NOT NULL,
  user_key     text        NOT NULL,
  identified   boolean     NOT NULL DEFAULT false,
  first_seen   timestamptz NOT NULL,
  last_seen    timestamptz NOT NULL,
  event_count  bigint      NOT NULL,
  traits       jsonb,
  first_touch  jsonb,
  last_touch   jsonb,
  PRIMARY KEY (project_id, user_key)
);
CREATE INDEX users_project_first_seen ON users (project_id, first_seen);

-- anonymous (or previous) id -> user id, from identify and alias events. The first link wins.
CREATE TABLE identities (
  project_id    text        NOT NULL,
  anonymous_id  text        NOT NULL,
  user_id       text        NOT NULL,
  linked_at     timestamptz NOT NULL,
  PRIMARY KEY (project_id, anonymous_id)
);

-- Marketing touchpoints per person (events carrying UTM parameters or an external referrer).
CREATE TABLE touchpoints (
  project_id   text        NOT NULL,
  user_key     text        NOT NULL,
  ts           timestamptz NOT NULL,
  source       text,
  medium       text,
  campaign     text,
  event_type   text        NOT NULL,
  attribution  jsonb       NOT NULL
);
CREATE INDEX touchpoints_project_user ON touchpoints (project_id, user_key, ts);
