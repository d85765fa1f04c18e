-- Issue 6: a per-person daily rollup (the pattern engine's features), custom patterns, alert delivery log.

-- One row per person, UTC day, event type, provider, model and feature (feature_used's "feature", else '').
-- Maintained by the derived flush, re-keyed by identity merges, rebuilt per touched day by the crash repair.
CREATE TABLE user_daily (
  project_id  text             NOT NULL,
  day         date             NOT NULL,
  user_key    text             NOT NULL,
  type        text             NOT NULL,
  provider    text             NOT NULL,
  model       text             NOT NULL,
  feature     text             NOT NULL,
  events      bigint           NOT NULL,
  tokens      double precision NOT NULL,
  cost        double precision NOT NULL,
  amount      double precision NOT NULL,
  rt_sum      double precision NOT NULL,
  rt_n        bigint           NOT NULL,
  PRIMARY KEY (project_id, day, user_key, type, provider, model, feature)
);
CREATE INDEX user_daily_user ON user_daily (project_id, user_key, day);

INSERT INTO user_daily
SELECT project_id, (ts AT TIME ZONE 'UTC')::date, coalesce(user_id, anonymous_id), type,
       coalesce(tally_str(properties, 'provider'), ''), coalesce(tally_str(properties, 'model'), ''),
       CASE WHEN type = 'feature_used' THEN coalesce(tally_str(properties, 'feature'), '') ELSE '' END,
       count(*), coalesce(sum(tally_num(properties, 'tokens')), 0), coalesce(sum(tally_num(properties, 'cost')), 0),
       coalesce(sum(tally_num(properties, 'amount')), 0), coalesce(sum(tally_num(properties, 'responseTimeMs')), 0),
       count(tally_num(properties, 'responseTimeMs'))
FROM events WHERE NOT is_bot AND coalesce(user_id, anonymous_id) IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- Custom pattern definitions (POST /v1/patterns); built-in patterns live in code.
CREATE TABLE patterns (
  project_id  text        NOT NULL,
  id          text        NOT NULL,
  definition  jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, id)
);

-- Alerts (high-severity insights and anomalies) already POSTed to a project's webhook: each is sent once.
CREATE TABLE alerts_sent (
  project_id  text        NOT NULL,
  alert_id    text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  delivered   boolean     NOT NULL DEFAULT false,
  url         text,
  payload     jsonb       NOT NULL,
  PRIMARY KEY (project_id, alert_id)
);

-- Per-project insight thresholds and alert webhook (GET/PUT /v1/insights/settings); absent keys take defaults.
CREATE TABLE project_settings (
  project_id  text        PRIMARY KEY,
  insights    jsonb       NOT NULL DEFAULT '{}',
  updated_at  timestamptz NOT NULL DEFAULT now()
);
