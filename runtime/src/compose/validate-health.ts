// `healthcheck:` of a service, as compose spells it (test, interval, timeout, retries, start_period)
// plus `test: {http: "8080/healthz"}` for a check from the host through the sidecar.
import type { HealthCheckSpec } from "../engine/types";
import { describe, type FieldContext, type FieldPath } from "./fields";
import { parseDurationMs } from "./text";

const FIELDS = ["test", "interval", "timeout", "retries", "start_period", "disable"] as const;
const TEST_FORMS = `["CMD", "prog", "arg"], ["CMD-SHELL", "command"], "command" or {http: "8080/healthz"}`;

/** undefined when the check is disabled (disable: true or test: ["NONE"]). */
export function readHealthcheck(
  ctx: FieldContext,
  path: FieldPath,
  raw: unknown,
): HealthCheckSpec | undefined {
  const v = ctx.map(path, raw, "test, interval, timeout, retries, start_period");
  ctx.onlyKeys(path, v, FIELDS);
  if (v.disable !== undefined && ctx.bool([...path, "disable"], v.disable)) return undefined;
  if (v.test === undefined) throw ctx.error([...path, "test"], `is required: ${TEST_FORMS}`);
  const duration = (key: string, dflt: number): number => {
    const d = v[key];
    if (d === undefined) return dflt;
    const ms = typeof d === "string" ? parseDurationMs(d) : undefined;
    if (ms === undefined || (ms <= 0 && key !== "start_period")) {
      throw ctx.error([...path, key], `must be a duration like 10s, 1m30s or 500ms, got ${describe(d)}`);
    }
    return ms;
  };
  const timing = {
    intervalMs: duration("interval", 30_000),
    timeoutMs: duration("timeout", 30_000),
    retries: v.retries === undefined ? 3 : ctx.integer([...path, "retries"], v.retries, 1),
    startPeriodMs: duration("start_period", 0),
  };
  const test = readTest(ctx, [...path, "test"], v.test);
  return test === "none" ? undefined : { ...test, ...timing };
}

function readTest(
  ctx: FieldContext,
  path: FieldPath,
  t: unknown,
): { exec: string[] } | { http: { port: number; path: string } } | "none" {
  if (typeof t === "string") return { exec: ["/bin/sh", "-c", t] };
  if (Array.isArray(t)) {
    const items = ctx.stringList(path, t);
    const [kind, ...rest] = items;
    if (kind === "NONE") return "none";
    if (kind === "CMD" && rest.length > 0) return { exec: rest };
    if (kind === "CMD-SHELL" && rest.length === 1) return { exec: ["/bin/sh", "-c", rest[0]!] };
    throw ctx.error(
      path,
      `must be one of ${TEST_FORMS}; a list starts with "CMD" (then the program and its arguments) or "CMD-SHELL" (then one command line)`,
    );
  }
  if (t && typeof t === "object") {
    const o = ctx.map(path, t, "http");
    ctx.onlyKeys(path, o, ["http"]);
    const spec = ctx.string([...path, "http"], o.http, `"PORT/PATH" such as "8080/healthz"`);
    const m = /^(\d{1,5})(\/.*)?$/.exec(spec);
    const port = m ? Number(m[1]) : 0;
    if (!m || port < 1 || port > 65535) {
      throw ctx.error(
        [...path, "http"],
        `must be "PORT/PATH" such as "8080/healthz", got ${JSON.stringify(spec)}`,
      );
    }
    return { http: { port, path: m[2] ?? "/" } };
  }
  throw ctx.error(path, `must be one of ${TEST_FORMS}, got ${describe(t)}`);
}
