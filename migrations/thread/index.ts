/** ThreadObject's schema, in order. Append new files; never edit or reorder shipped ones. */
import type { Migration } from "../../src/storage/migrate.ts";
import init from "./0001_init.sql";
import turns from "./0002_turns.sql";
import events from "./0003_events.sql";
import responses from "./0004_responses.sql";
import wsTickets from "./0005_ws_tickets.sql";
import branch from "./0006_branch_messages.sql";

export const THREAD_MIGRATIONS: readonly Migration[] = [
  { name: "0001_init", sql: init },
  { name: "0002_turns", sql: turns },
  { name: "0003_events", sql: events },
  { name: "0004_responses", sql: responses },
  { name: "0005_ws_tickets", sql: wsTickets },
  { name: "0006_branch_messages", sql: branch },
];
