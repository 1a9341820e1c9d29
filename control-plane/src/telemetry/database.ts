// The telemetry database: its own SQLite file (never the registry's), WAL so the query worker's
// read-only connection reads while the main thread writes, and incremental vacuum so retention
// gives pages back to the file system.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { TelemetryError } from "./errors";

export type TelemetryDatabase = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS spans (
  id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT NOT NULL,
  service TEXT NOT NULL,
  name TEXT NOT NULL,
  kind INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  duration_ns INTEGER NOT NULL,
  status_code INTEGER NOT NULL,
  status_message TEXT NOT NULL,
  peer_service TEXT NOT NULL,
  attributes TEXT NOT NULL,
  events TEXT NOT NULL,
  resource TEXT NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS spans_trace ON spans(trace_id, span_id);
CREATE INDEX IF NOT EXISTS spans_start ON spans(start_ns);
CREATE INDEX IF NOT EXISTS spans_service ON spans(service, start_ns);
CREATE INDEX IF NOT EXISTS spans_duration ON spans(duration_ns);

CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  service TEXT NOT NULL,
  container TEXT NOT NULL,
  instance TEXT NOT NULL,
  level TEXT NOT NULL,
  source TEXT NOT NULL,
  message TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  attributes TEXT NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_time ON logs(time_ns);
CREATE INDEX IF NOT EXISTS logs_service ON logs(service, time_ns);
CREATE INDEX IF NOT EXISTS logs_container ON logs(container, time_ns);
CREATE INDEX IF NOT EXISTS logs_trace ON logs(trace_id) WHERE trace_id != '';
-- No column sizes (no ranking is done) and rows indexed by LogStore itself, not by a trigger:
-- together about twice the ingest rate. Deletes (retention) go through the trigger.
CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5(message, content='logs', content_rowid='id', columnsize=0);
CREATE TRIGGER IF NOT EXISTS logs_fts_delete AFTER DELETE ON logs BEGIN
  INSERT INTO logs_fts(logs_fts, rowid, message) VALUES ('delete', old.id, old.message);
END;
`;

export function openTelemetryDatabase(path: string): TelemetryDatabase {
  let db: TelemetryDatabase;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
  } catch (err) {
    throw new TelemetryError(
      "STORE_FAILED",
      `cannot open the telemetry database ${path}: ${(err as Error).message}; check --telemetry-db and its folder's permissions`,
    );
  }
  // auto_vacuum only takes effect before the first table exists, so it comes first.
  db.pragma("auto_vacuum = INCREMENTAL");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.exec(SCHEMA);
  return db;
}
