// Reading one field of a manifest: each reader takes the raw YAML value and its path, and either
// returns a typed value or throws a ComposeError naming the file (and line), the field path and what
// is allowed.

import { didYouMean } from "../../../cli/index";
import { ComposeError } from "./errors";

export type FieldPath = Array<string | number>;

export class FieldContext {
  constructor(
    readonly file: string,
    /** The 1-based line of the value at a path, when the source is known. */
    private readonly locate: (path: FieldPath) => number | undefined = () => undefined,
  ) {}

  /** services.web.publish[0] */
  static show(path: FieldPath): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
  }

  error(path: FieldPath, message: string): ComposeError {
    const line = path.length > 0 ? this.locate(path) : undefined;
    const where = line ? `${this.file}:${line}` : this.file;
    const field = path.length > 0 ? `${FieldContext.show(path)} ` : "";
    return new ComposeError("INVALID_MANIFEST", `${where}: ${field}${message}`);
  }

  /** A mapping; throws on a list or scalar. */
  map(path: FieldPath, v: unknown, what: string): Record<string, unknown> {
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    throw this.error(path, `must be a mapping of ${what}, got ${describe(v)}`);
  }

  /** Refuses keys outside `allowed`, suggesting the closest one. */
  onlyKeys(path: FieldPath, v: Record<string, unknown>, allowed: readonly string[]): void {
    for (const key of Object.keys(v)) {
      if (allowed.includes(key)) continue;
      const close = didYouMean(key, allowed);
      throw this.error(
        [...path, key],
        `is not a known field${close ? ` (did you mean "${close}"?)` : ""}; allowed: ${allowed.join(", ")}`,
      );
    }
  }

  string(path: FieldPath, v: unknown, allowed = "a string"): string {
    if (typeof v === "string") return v;
    throw this.error(path, `must be ${allowed}, got ${describe(v)}`);
  }

  bool(path: FieldPath, v: unknown): boolean {
    if (typeof v === "boolean") return v;
    throw this.error(path, `must be true or false, got ${describe(v)}`);
  }

  integer(path: FieldPath, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `${min}-${max}`;
    throw this.error(path, `must be a whole number ${range}, got ${describe(v)}`);
  }

  stringList(path: FieldPath, v: unknown, what = "strings"): string[] {
    if (Array.isArray(v)) {
      return v.map((item, i) => {
        if (typeof item === "string") return item;
        if (typeof item === "number") return String(item);
        throw this.error([...path, i], `must be a string, got ${describe(item)}`);
      });
    }
    throw this.error(path, `must be a list of ${what}, got ${describe(v)}`);
  }

  /** A string, or a list of strings (a string that is one item). */
  oneOrList(path: FieldPath, v: unknown, what: string): string[] {
    return typeof v === "string" ? [v] : this.stringList(path, v, what);
  }
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return JSON.stringify(v);
  return `${typeof v} ${String(v)}`;
}
