// Consul's key/value store (/v1/kv), in the control plane's SQLite database: keys are any UTF-8 text
// (slashes make folders only by convention), values any bytes up to 512 KiB, each with Consul's
// 64-bit flags and its create and modify indexes. Writes take an index of the store's own, so a
// blocking query wakes on KV changes and registry changes do not wake KV watchers.
import type { SqliteDatabase } from "../store/database";

/** Consul's limit on a value (its kv_max_value_size default). */
export const MAX_VALUE_BYTES = 512 * 1024;
/** Keys longer than this are refused (Consul has no fixed limit; a bound keeps rows sane). */
export const MAX_KEY_LENGTH = 2048;

export interface KvEntry {
  key: string;
  value: Buffer;
  flags: number;
  createIndex: number;
  modifyIndex: number;
}

interface Row {
  key: string;
  value: Buffer;
  flags: number;
  create_index: number;
  modify_index: number;
}

const toEntry = (r: Row): KvEntry => ({
  key: r.key,
  value: r.value,
  flags: r.flags,
  createIndex: r.create_index,
  modifyIndex: r.modify_index,
});

/** The keys that start with `prefix`, in SQLite's terms: a range, so no LIKE escaping is needed. */
function prefixRange(prefix: string): [string, string] {
  return [prefix, `${prefix}\u{10ffff}`];
}

export class SqliteKv {
  private readonly listeners = new Set<(change: { index: number }) => void>();

  constructor(private readonly db: SqliteDatabase) {}

  index(): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'kv_index'").get() as { value: string };
    return Number(row.value);
  }

  onChange(listener: (change: { index: number }) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(key: string): KvEntry | undefined {
    const row = this.db.prepare("SELECT * FROM kv WHERE key = ?").get(key) as Row | undefined;
    return row && toEntry(row);
  }

  /** Every entry whose key starts with `prefix` ("" is all), sorted by key. */
  list(prefix: string): KvEntry[] {
    const [from, to] = prefixRange(prefix);
    return (
      this.db.prepare("SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key").all(from, to) as Row[]
    ).map(toEntry);
  }

  /**
   * The keys under `prefix`; with a separator, each key is cut after the first separator past the
   * prefix, so a folder shows once ("web/" for "web/a" and "web/b"), as Consul's ?keys&separator=.
   */
  keys(prefix: string, separator = ""): string[] {
    const [from, to] = prefixRange(prefix);
    const all = (
      this.db.prepare("SELECT key FROM kv WHERE key >= ? AND key < ? ORDER BY key").all(from, to) as Row[]
    ).map((r) => r.key);
    if (separator === "") return all;
    const out = new Set<string>();
    for (const key of all) {
      const at = key.indexOf(separator, prefix.length);
      out.add(at < 0 ? key : key.slice(0, at + separator.length));
    }
    return [...out];
  }

  /**
   * Sets a key. With `cas`, only if the key's modify index is `cas` (0: only if it does not exist).
   * Returns false when the check failed (nothing written).
   */
  put(key: string, value: Buffer, flags: number, cas?: number): boolean {
    const done = this.db.transaction(() => {
      const current = this.get(key);
      if (cas !== undefined && (current?.modifyIndex ?? 0) !== cas) return undefined;
      const index = this.bump();
      this.db
        .prepare(
          `INSERT INTO kv (key, value, flags, create_index, modify_index) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(key) DO UPDATE SET value = excluded.value, flags = excluded.flags, modify_index = excluded.modify_index`,
        )
        .run(key, value, flags, index, index);
      return index;
    })();
    if (done === undefined) return false;
    this.notify(done);
    return true;
  }

  /**
   * Deletes a key, or with `recurse` every key under it. With `cas` (one key only), only if its
   * modify index is `cas` (a cas of 0 deletes nothing). Returns false when the check failed. Deleting what is not there is fine.
   */
  delete(key: string, o: { recurse?: boolean; cas?: number } = {}): boolean {
    const done = this.db.transaction(() => {
      // As Consul: a cas of 0 deletes nothing (there is no "only if absent" for a delete).
      if (o.cas !== undefined && (o.cas === 0 || this.get(key)?.modifyIndex !== o.cas)) return undefined;
      const [from, to] = prefixRange(key);
      const removed = o.recurse
        ? this.db.prepare("DELETE FROM kv WHERE key >= ? AND key < ?").run(from, to).changes
        : this.db.prepare("DELETE FROM kv WHERE key = ?").run(key).changes;
      return removed > 0 ? this.bump() : 0;
    })();
    if (done === undefined) return false;
    if (done > 0) this.notify(done);
    return true;
  }

  private bump(): number {
    this.db.prepare("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'kv_index'").run();
    return this.index();
  }

  private notify(index: number): void {
    for (const listener of [...this.listeners]) listener({ index });
  }
}
