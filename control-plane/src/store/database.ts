// Opens the control plane's SQLite database. WAL with synchronous=NORMAL: every committed
// transaction survives the process being killed (kill -9); only an OS crash can lose the last few.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { migrate } from "./migrations";

export type SqliteDatabase = Database.Database;

/** The registry's file inside the data dir. */
export const REGISTRY_FILE = "registry.db";

/** Opens (creating when missing) DATA_DIR/registry.db and brings its schema up to date. */
export function openRegistryDatabase(dataDir: string): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const db = new Database(join(dataDir, REGISTRY_FILE));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  // Another process holding a write lock briefly should delay us, not fail the request.
  db.pragma("busy_timeout = 2000");
  migrate(db);
  return db;
}
