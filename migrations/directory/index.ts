/** DirectoryObject's schema, in order. Append new files; never edit or reorder shipped ones. */
import type { Migration } from "../../src/storage/migrate.ts";
import init from "./0001_init.sql";

export const DIRECTORY_MIGRATIONS: readonly Migration[] = [{ name: "0001_init", sql: init }];
