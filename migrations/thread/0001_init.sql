-- The thread this Durable Object holds: at most one row (id = the thread ID).
CREATE TABLE thread (
  id            TEXT PRIMARY KEY,
  tenant        TEXT NOT NULL,
  id_prefix     TEXT NOT NULL,          -- random; message and turn IDs are id_prefix + seq
  created_at    INTEGER NOT NULL,       -- Unix seconds
  updated_at    INTEGER NOT NULL,
  model         TEXT NOT NULL,
  instructions  TEXT,
  metadata      TEXT NOT NULL DEFAULT '{}',
  params        TEXT NOT NULL DEFAULT '{}',
  expires_after TEXT,
  message_count INTEGER NOT NULL DEFAULT 0,
  input_tokens  INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  next_seq      INTEGER NOT NULL DEFAULT 1, -- next message seq to hand out (never reused)
  next_turn     INTEGER NOT NULL DEFAULT 1,
  event_seq     INTEGER NOT NULL DEFAULT 0  -- last event seq handed out
) STRICT;

-- Append-only history; reads are ranges of seq. No secondary index: IDs encode seq.
CREATE TABLE messages (
  seq        INTEGER PRIMARY KEY,
  role       TEXT NOT NULL,
  content    TEXT NOT NULL,
  status     TEXT NOT NULL,
  turn       INTEGER,                   -- turns.seq of the turn that wrote it
  created_at INTEGER NOT NULL,
  tokens     INTEGER NOT NULL,          -- token count used by the context builder
  metadata   TEXT,                      -- JSON, NULL when empty
  usage      TEXT,                      -- JSON, assistant messages only
  extra      TEXT                       -- JSON: tool_calls / tool_call_id when present
) STRICT;
