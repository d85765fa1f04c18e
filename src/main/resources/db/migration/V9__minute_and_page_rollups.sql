-- Event sums per UTC minute and event type (every other dimension summed): what unfiltered per-minute series read
-- instead of raw events (a day of minutes is ~20 rows per minute instead of every event of the day). Maintained by
-- the derived flush, rebuilt for the hours a crash touched, pruned by retention like the other rollups.
CREATE TABLE rollup_minute_t (
  project_id  text             NOT NULL,
  minute      timestamptz      NOT NULL,
  type        text             NOT NULL,
  events      bigint           NOT NULL,
  tokens      double precision NOT NULL,
  cost        double precision NOT NULL,
  amount      double precision NOT NULL,
  rt_sum      double precision NOT NULL,
  rt_n        bigint           NOT NULL,
  dur_sum     double precision NOT NULL,
  dur_n       bigint           NOT NULL,
  PRIMARY KEY (project_id, minute, type)
);

-- Events stored before this migration.
INSERT INTO rollup_minute_t
SELECT project_id, date_trunc('minute', ts), type, count(*), coalesce(sum(tally_num(properties, 'tokens')), 0),
       coalesce(sum(tally_num(properties, 'cost')), 0), coalesce(sum(tally_num(properties, 'amount')), 0),
       coalesce(sum(tally_num(properties, 'responseTimeMs')), 0), count(tally_num(properties, 'responseTimeMs')),
       coalesce(sum(tally_num(properties, 'durationMs')), 0), count(tally_num(properties, 'durationMs'))
FROM events WHERE NOT is_bot
GROUP BY 1, 2, 3;

-- Event sums per UTC day, page path (page.path; '' without one) and event type: what unfiltered breakdowns by page
-- read for whole days instead of raw events.
CREATE TABLE rollup_page_daily (
  project_id  text             NOT NULL,
  day         date             NOT NULL,
  path        text             NOT NULL,
  type        text             NOT NULL,
  events      bigint           NOT NULL,
  tokens      double precision NOT NULL,
  cost        double precision NOT NULL,
  amount      double precision NOT NULL,
  rt_sum      double precision NOT NULL,
  rt_n        bigint           NOT NULL,
  dur_sum     double precision NOT NULL,
  dur_n       bigint           NOT NULL,
  PRIMARY KEY (project_id, day, path, type)
);

INSERT INTO rollup_page_daily
SELECT project_id, (ts AT TIME ZONE 'UTC')::date, coalesce(page ->> 'path', ''), type, count(*),
       coalesce(sum(tally_num(properties, 'tokens')), 0), coalesce(sum(tally_num(properties, 'cost')), 0),
       coalesce(sum(tally_num(properties, 'amount')), 0), coalesce(sum(tally_num(properties, 'responseTimeMs')), 0),
       count(tally_num(properties, 'responseTimeMs')), coalesce(sum(tally_num(properties, 'durationMs')), 0),
       count(tally_num(properties, 'durationMs'))
FROM events WHERE NOT is_bot
GROUP BY 1, 2, 3, 4;
