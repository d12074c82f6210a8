-- One row per turn: the input messages it wrote, the reply it reserved, its outcome.
CREATE TABLE turns (
  seq          INTEGER PRIMARY KEY,
  status       TEXT NOT NULL,
  input_first  INTEGER NOT NULL,        -- input messages are the seq range [input_first, input_last]
  input_last   INTEGER NOT NULL,
  output_seq   INTEGER NOT NULL,        -- reserved seq of the reply
  model        TEXT NOT NULL,
  usage        TEXT,
  error        TEXT,
  created_at   INTEGER NOT NULL,
  completed_at INTEGER
) STRICT;

-- Only unfinished turns are in this index, so finding them on wake costs the
-- same whatever the thread's length.
CREATE INDEX turns_unfinished ON turns (seq) WHERE status IN ('queued', 'in_progress');
