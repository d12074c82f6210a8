-- The resume buffer of the thread's event log. Message and turn events hold a
-- reference (ref = message or turn seq) and are rebuilt from those tables on
-- replay; streamed deltas are coalesced: one row holds the deltas of seqs
-- seq..last_seq as a JSON array. Pruned by the alarm (see src/thread/events.ts).
CREATE TABLE events (
  seq        INTEGER PRIMARY KEY,
  last_seq   INTEGER NOT NULL,
  type       TEXT NOT NULL,
  ref        INTEGER,
  data       TEXT,
  created_at INTEGER NOT NULL           -- Unix ms
) STRICT;

-- Idempotency-Key and WebSocket request_id records, kept 24 hours.
CREATE TABLE idempotency (
  key        TEXT PRIMARY KEY,
  body_hash  TEXT NOT NULL,
  result     TEXT NOT NULL,             -- JSON: what the first request answered
  created_at INTEGER NOT NULL           -- Unix ms
) STRICT;
