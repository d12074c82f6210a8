-- Short-lived, single-use WebSocket tickets (browsers cannot set headers on a
-- WebSocket). Only a SHA-256 of each ticket is kept.
CREATE TABLE ws_tickets (
  hash       TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL            -- Unix ms
) STRICT;
