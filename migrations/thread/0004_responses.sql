-- Threads that only hold a chain of responses (previous_response_id) are hidden:
-- they are not listed under /v1/threads.
ALTER TABLE thread ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;

-- One row per stored response: the turn that produced it, the response it
-- continues (a turn of this same object), and what its request asked for.
CREATE TABLE responses (
  turn    INTEGER PRIMARY KEY,
  parent  INTEGER,
  request TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0
) STRICT;
