// Schema migrations, applied in order and recorded in PRAGMA user_version. Append new steps;
// never edit one that has shipped, since existing databases already ran it.
import type Database from "better-sqlite3";

const MIGRATIONS: string[] = [
  // 1: the registry.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   INSERT INTO meta (key, value) VALUES ('index', '1');
   CREATE TABLE services (
     name TEXT PRIMARY KEY,
     virtual_ip TEXT NOT NULL UNIQUE,
     ports TEXT NOT NULL,
     labels TEXT NOT NULL,
     origin TEXT NOT NULL,
     create_index INTEGER NOT NULL,
     modify_index INTEGER NOT NULL
   );
   CREATE TABLE endpoints (
     source TEXT NOT NULL,
     id TEXT NOT NULL,
     service TEXT NOT NULL,
     address TEXT NOT NULL,
     ports TEXT NOT NULL,
     labels TEXT NOT NULL,
     workload TEXT NOT NULL,
     node TEXT NOT NULL,
     healthy INTEGER NOT NULL,
     create_index INTEGER NOT NULL,
     modify_index INTEGER NOT NULL,
     PRIMARY KEY (source, id)
   );
   CREATE INDEX endpoints_by_service ON endpoints (service);`,
  // 2: mesh config objects (Service, Route, ResiliencePolicy, Telemetry) and every version of them.
  `INSERT INTO meta (key, value) VALUES ('config_version', '0');
   CREATE TABLE config_objects (
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     service TEXT,
     labels TEXT NOT NULL,
     spec TEXT NOT NULL,
     version INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (kind, name)
   );
   CREATE TABLE config_history (
     version INTEGER PRIMARY KEY,
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     change TEXT NOT NULL,
     labels TEXT NOT NULL,
     spec TEXT NOT NULL,
     at TEXT NOT NULL
   );
   CREATE INDEX config_history_by_object ON config_history (kind, name, version);`,
  // 3: virtual IPs of services removed for having no endpoints left, kept for their name's return.
  `CREATE TABLE retired_vips (
     name TEXT PRIMARY KEY,
     virtual_ip TEXT NOT NULL UNIQUE,
     retired_at INTEGER NOT NULL
   );`,
  // 4: Consul's key/value store, with an index of its own (writes there are not registry changes).
  `INSERT INTO meta (key, value) VALUES ('kv_index', '0');
   CREATE TABLE kv (
     key TEXT PRIMARY KEY,
     value BLOB NOT NULL,
     flags INTEGER NOT NULL,
     create_index INTEGER NOT NULL,
     modify_index INTEGER NOT NULL
   );`,
  // 5: a config Service's mutual TLS mode ('' where it does not say: the mesh-wide default).
  `ALTER TABLE services ADD COLUMN mtls TEXT NOT NULL DEFAULT '';`,
  // 6: the last workload certificate the CA issued to each sidecar node id (times in ms since the
  // epoch; root_id: the root that signed it), so a restart does not forget what sidecars hold.
  `CREATE TABLE issued_certificates (
     node TEXT PRIMARY KEY,
     identity TEXT NOT NULL,
     not_after INTEGER NOT NULL,
     issued_at INTEGER NOT NULL,
     root_id TEXT NOT NULL
   );`,
];

/** Runs every migration the database has not seen yet, each in its own transaction. */
export function migrate(db: Database.Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the registry database has schema version ${current}, newer than this weft (${MIGRATIONS.length}); upgrade weft`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
