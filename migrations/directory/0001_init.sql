-- The tenant's thread index, used only for listing. Each ThreadObject owns its
-- own truth; this row is a copy it refreshes when the thread changes.
CREATE TABLE threads (
  id          TEXT PRIMARY KEY,
  created_at  INTEGER NOT NULL,          -- Unix seconds
  activity_ms INTEGER NOT NULL,          -- last activity, ms: the listing order
  metadata    TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX threads_by_activity ON threads (activity_ms, id);
