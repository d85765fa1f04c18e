-- An event whose client context is its session's stored one no longer relies on its place among the session's
-- events: it names the event that stored that context (the anchor). Before, a null context meant "the previous
-- stored one of the session in time order", which a late or retried event with another context could change for
-- the events after it. Rows stored before this migration (both columns null) keep that rule when read.
ALTER TABLE events ADD COLUMN context_from uuid;
