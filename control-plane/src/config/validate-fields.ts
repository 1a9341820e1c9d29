// Field checks shared by every kind. Each takes `unknown` and the field's path in the document, and
// returns the typed value or throws a ConfigValidationError naming that path and what is allowed.
import { didYouMean } from "../../../cli/index";
import { invalid } from "./errors";

/** Durations in the model are milliseconds and at most one hour. */
export const MAX_DURATION_MS = 3_600_000;

/** DNS label (RFC 1123): how names of config objects appear in URLs and DNS. */
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_LABEL_ALLOWED =
  "a DNS label: lower-case letters, digits and '-', starting and ending alphanumeric, at most 63";

export function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/** An object whose keys are all in `known`; an unknown key is named in the error. */
export function object(value: unknown, field: string, known: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) invalid(field, "an object");
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!known.includes(key)) {
      const path = field ? `${field}.${key}` : key;
      const near = didYouMean(key, known);
      invalid(
        path,
        `one of ${known.join(", ")}`,
        `${path} is not a known field${near ? ` (did you mean "${near}"?)` : ""}; allowed here: ${known.join(", ")}`,
      );
    }
  }
  return record;
}

export function string(value: unknown, field: string): string {
  if (typeof value !== "string") invalid(field, "a string");
  return value;
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (isAbsent(value) || value === "") return undefined;
  return string(value, field);
}

export function boolean(value: unknown, field: string): boolean | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value !== "boolean") invalid(field, "true or false");
  return value;
}

export function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    invalid(field, `an integer from ${min} to ${max}`);
  }
  return value;
}

export function optionalInteger(value: unknown, field: string, min: number, max: number): number | undefined {
  return isAbsent(value) ? undefined : integer(value, field, min, max);
}

export function durationMs(value: unknown, field: string): number | undefined {
  return optionalInteger(value, field, 0, MAX_DURATION_MS);
}

export function ratio(value: unknown, field: string): number | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    invalid(field, "a number from 0 to 1");
  }
  return value;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    invalid(field, `one of ${allowed.join(", ")}`);
  }
  return value as T;
}

export function list(value: unknown, field: string): unknown[] {
  if (isAbsent(value)) return [];
  if (!Array.isArray(value)) invalid(field, "a list");
  return value;
}

export function dnsLabel(value: unknown, field: string): string {
  if (typeof value !== "string" || !DNS_LABEL.test(value)) {
    invalid(field, DNS_LABEL_ALLOWED, `${field} ${JSON.stringify(value ?? "")} must be ${DNS_LABEL_ALLOWED}`);
  }
  return value;
}

/** String-to-string map; keys must match `keyPattern` (described by `keyAllowed`). */
export function stringMap(
  value: unknown,
  field: string,
  keyPattern = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$/,
  keyAllowed = "letters, digits, '.', '_', '/', '-' (at most 253)",
): Record<string, string> | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) invalid(field, "a map of strings");
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!keyPattern.test(key))
      invalid(`${field}.${key}`, `a key of ${keyAllowed}`, `${field} key "${key}" must be ${keyAllowed}`);
    out[key] = string(v, `${field}.${key}`);
  }
  return out;
}

/** Drops undefined members so stored specs compare and print cleanly. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
