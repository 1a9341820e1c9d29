// Config objects to and from their SQLite rows, plus the small pure helpers the store needs:
// comparing specs regardless of key order, freezing shared objects, and the user-facing errors.
import { ConfigError } from "./errors";
import { pluralOf, qualifiedName } from "./kinds";
import {
  API_VERSION,
  type ChangeType,
  type ConfigDocument,
  type ConfigKind,
  type ConfigObject,
} from "./types";

export interface ObjectRow {
  kind: ConfigKind;
  name: string;
  labels: string;
  spec: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface HistoryRow {
  version: number;
  kind: ConfigKind;
  name: string;
  change: ChangeType;
  labels: string;
  spec: string;
  at: string;
}

export function key(kind: ConfigKind, name: string): string {
  return `${kind}/${name}`;
}

export function checkVersion(
  kind: ConfigKind,
  name: string,
  expected: number | undefined,
  current?: ConfigObject,
): void {
  if (expected === undefined) return;
  if (!current) {
    throw new ConfigError(
      "VERSION_CONFLICT",
      `${qualifiedName(kind, name)} has version ${expected} in your document but no longer exists; remove metadata.version to create it again`,
    );
  }
  if (current.metadata.version !== expected) {
    throw new ConfigError(
      "VERSION_CONFLICT",
      `${qualifiedName(kind, name)} was changed by someone else (version ${current.metadata.version}, your document has ${expected}); get it again, reapply your edit, or remove metadata.version to overwrite`,
    );
  }
}

export function notFound(kind: ConfigKind, name: string): ConfigError {
  return new ConfigError(
    "CONFIG_NOT_FOUND",
    `${qualifiedName(kind, name)} not found; list them with 'weft get ${pluralOf(kind)}'`,
  );
}

export function sameContent(current: ConfigObject, doc: ConfigDocument): boolean {
  return (
    canonical(current.spec) === canonical(doc.spec) &&
    canonical(current.metadata.labels) === canonical(doc.metadata.labels)
  );
}

/** JSON with sorted keys, so {a, b} and {b, a} compare equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

export function toObject(r: ObjectRow): ConfigObject {
  return deepFreeze({
    apiVersion: API_VERSION,
    kind: r.kind,
    metadata: {
      name: r.name,
      labels: JSON.parse(r.labels) as Record<string, string>,
      version: r.version,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    },
    spec: JSON.parse(r.spec) as unknown,
  });
}

/** Objects handed out are shared by every reader; freezing keeps one reader from changing another's. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
