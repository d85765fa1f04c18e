-- Rollups the analytics routes read instead of raw rows (issue 5). Maintained by the DerivedUpdater in the same
-- statement as sessions and people, rebuilt for the touched hours/days by the crash repair. Bots excluded.
-- Empty string stands for "absent" in dimension columns so they can be part of the primary key.

-- A JSON number property as float8, NULL for anything else (never fails on a string).
CREATE FUNCTION tally_num(j jsonb, k text) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(j -> k) = 'number' THEN (j ->> k)::double precision END
$$;
-- A JSON string property as text, NULL for anything else.
CREATE FUNCTION tally_str(j jsonb, k text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(j -> k) = 'string' THEN j ->> k END
$$;

CREATE TABLE rollup_hourly (
  project_id   text             NOT NULL,
  hour         timestamptz      NOT NULL,
  type         text             NOT NULL,
  provider     text             NOT NULL,
  model        text             NOT NULL,
  country      text             NOT NULL,
  device_type  text             NOT NULL,
  browser      text             NOT NULL,
  events       bigint           NOT NULL,
  tokens       double precision NOT NULL,
  cost         double precision NOT NULL,
  amount       double precision NOT NULL,
  rt_sum       double precision NOT NULL,
  rt_n         bigint           NOT NULL,
  dur_sum      double precision NOT NULL,
  dur_n        bigint           NOT NULL,
  PRIMARY KEY (project_id, hour, type, provider, model, country, device_type, browser)
);

-- Requests (message_sent) and errors per UTC minute, for uptime.
CREATE TABLE rollup_minute (
  project_id  text        NOT NULL,
  minute      timestamptz NOT NULL,
  sent        bigint      NOT NULL,
  errors      bigint      NOT NULL,
  PRIMARY KEY (project_id, minute)
);

-- Persons active per UTC day (person = user id, else anonymous id; moved on identity merges).
CREATE TABLE user_days (
  project_id  text NOT NULL,
  day         date NOT NULL,
  user_key    text NOT NULL,
  PRIMARY KEY (project_id, day, user_key)
);
CREATE INDEX user_days_user ON user_days (project_id, user_key, day);

-- Events stored before this migration.
INSERT INTO rollup_hourly
SELECT project_id, date_trunc('hour', ts), type, coalesce(tally_str(properties, 'provider'), ''),
       coalesce(tally_str(properties, 'model'), ''), coalesce(country, ''), coalesce(device_type, ''),
       coalesce(browser, ''), count(*), coalesce(sum(tally_num(properties, 'tokens')), 0),
       coalesce(sum(tally_num(properties, 'cost')), 0), coalesce(sum(tally_num(properties, 'amount')), 0),
       coalesce(sum(tally_num(properties, 'responseTimeMs')), 0), count(tally_num(properties, 'responseTimeMs')),
       coalesce(sum(tally_num(properties, 'durationMs')), 0), count(tally_num(properties, 'durationMs'))
FROM events WHERE NOT is_bot
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

INSERT INTO rollup_minute
SELECT project_id, date_trunc('minute', ts), count(*) FILTER (WHERE type = 'message_sent'),
       count(*) FILTER (WHERE type = 'error')
FROM events WHERE NOT is_bot AND type IN ('message_sent', 'error')
GROUP BY 1, 2;

INSERT INTO user_days
SELECT DISTINCT project_id, (ts AT TIME ZONE 'UTC')::date, coalesce(user_id, anonymous_id)
FROM events WHERE NOT is_bot AND coalesce(user_id, anonymous_id) IS NOT NULL;

-- The same per UTC day, so month-long periods read ~30 rows per combination instead of ~720.
CREATE TABLE rollup_daily (LIKE rollup_hourly);
ALTER TABLE rollup_daily RENAME COLUMN hour TO day;
ALTER TABLE rollup_daily ALTER COLUMN day TYPE date USING (day AT TIME ZONE 'UTC')::date;
ALTER TABLE rollup_daily ADD PRIMARY KEY (project_id, day, type, provider, model, country, device_type, browser);
INSERT INTO rollup_daily
SELECT project_id, (hour AT TIME ZONE 'UTC')::date, type, provider, model, country, device_type, browser, sum(events),
       sum(tokens), sum(cost), sum(amount), sum(rt_sum), sum(rt_n), sum(dur_sum), sum(dur_n)
FROM rollup_hourly GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
