// The lifecycle fields of a run spec from the wire (restart, healthcheck, publish, tmpfs, tty,
// interactive, stdinOnce, consoleSize, stopTimeoutS, stopSignal; publish and tmpfs parsed by the ports and volumes modules): takes the body, returns typed values or throws
// INVALID_ARGUMENT naming the field and what is allowed. Defaults are Docker's.
import { constants } from "node:os";
import { RuntimeError } from "../errors";
import { validatePublishList } from "../ports/index";
import { tmpfsFrom } from "../volumes/index";
import type { HealthCheckSpec, RestartPolicy, RunSpec } from "./types";

type Lifecycle = Pick<
  RunSpec,
  | "restart"
  | "healthcheck"
  | "publish"
  | "tmpfs"
  | "tty"
  | "interactive"
  | "stdinOnce"
  | "consoleSize"
  | "stopTimeoutS"
  | "stopSignal"
  | "noHealthcheck"
>;

function invalid(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}

const RESTART_HELP = 'use "no", "always", "unless-stopped" or "on-failure[:N]"';

/** "no" | "always" | "unless-stopped" | "on-failure[:N]" | {name, maxRetries}. */
export function parseRestartPolicy(v: unknown, field = "restart"): RestartPolicy {
  if (v === undefined || v === null || v === "") return { name: "no", maxRetries: 0 };
  let name: unknown;
  let max: unknown = 0;
  if (typeof v === "string") {
    const [n, m, extra] = v.split(":");
    name = n;
    if (m !== undefined) max = /^\d+$/.test(m) ? Number(m) : Number.NaN;
    if (extra !== undefined) throw invalid(`${field} "${v}" is invalid: ${RESTART_HELP}`);
  } else if (typeof v === "object" && !Array.isArray(v)) {
    name = (v as Record<string, unknown>).name;
    max = (v as Record<string, unknown>).maxRetries ?? 0;
  }
  if (name !== "no" && name !== "always" && name !== "unless-stopped" && name !== "on-failure") {
    throw invalid(`${field} ${JSON.stringify(v)} is invalid: ${RESTART_HELP}`);
  }
  if (typeof max !== "number" || !Number.isInteger(max) || max < 0) {
    throw invalid(`${field}: the retry count must be a whole number, as in on-failure:3`);
  }
  if (max > 0 && name !== "on-failure") {
    throw invalid(`${field}: a retry count is allowed only with on-failure, as in on-failure:3`);
  }
  return { name, maxRetries: max };
}

function duration(h: Record<string, unknown>, key: string, fallback: number): number {
  const v = h[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw invalid(`healthcheck.${key} must be a whole number of milliseconds`);
  }
  return v;
}

function parseHealthcheck(v: unknown): HealthCheckSpec | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw invalid("healthcheck must be an object");
  const h = v as Record<string, unknown>;
  const exec = h.exec;
  const http = h.http;
  if ((exec === undefined) === (http === undefined)) {
    throw invalid("healthcheck needs exactly one of exec (a command) and http ({port, path})");
  }
  const out: HealthCheckSpec = {
    intervalMs: duration(h, "intervalMs", 30_000),
    timeoutMs: duration(h, "timeoutMs", 30_000),
    retries: duration(h, "retries", 3),
    startPeriodMs: duration(h, "startPeriodMs", 0),
  };
  if (exec !== undefined) {
    if (!Array.isArray(exec) || exec.length === 0 || !exec.every((s) => typeof s === "string")) {
      throw invalid("healthcheck.exec must be a non-empty array of strings");
    }
    out.exec = exec as string[];
  } else {
    const { port, path } = (http ?? {}) as Record<string, unknown>;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalid("healthcheck.http.port must be a port number 1-65535");
    }
    const p = path ?? "/";
    if (typeof p !== "string" || !p.startsWith("/")) throw invalid("healthcheck.http.path must start with /");
    out.http = { port, path: p };
  }
  if (out.intervalMs === 0) throw invalid("healthcheck.intervalMs must be more than 0");
  if (out.timeoutMs === 0) throw invalid("healthcheck.timeoutMs must be more than 0");
  return out;
}

function list<T>(body: Record<string, unknown>, key: string, parse: (v: unknown, f: string) => T): T[] {
  const v = body[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(`${key} must be an array`);
  return v.map((x, i) => parse(x, `${key}[${i}]`));
}

function bool(body: Record<string, unknown>, key: string): boolean {
  const v = body[key] ?? false;
  if (typeof v !== "boolean") throw invalid(`${key} must be a boolean`);
  return v;
}

/** {rows, cols}: whole numbers 0..1000 (what the monitor accepts); absent or null: none. */
function consoleSize(body: Record<string, unknown>): RunSpec["consoleSize"] {
  const v = body.consoleSize;
  if (v === undefined || v === null) return undefined;
  const ok = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 1000;
  const o = v as { rows?: unknown; cols?: unknown };
  if (typeof v !== "object" || !ok(o.rows) || !ok(o.cols)) {
    throw invalid("consoleSize must be {rows, cols}, whole numbers from 0 to 1000");
  }
  return { rows: o.rows as number, cols: o.cols as number };
}

/** "SIGTERM", "TERM" or a number; returned as SIGNAME. */
export function parseSignal(v: unknown, field: string): string {
  if (typeof v === "number" || (typeof v === "string" && /^\d+$/.test(v))) {
    const n = Number(v);
    const name = Object.entries(constants.signals).find(([, num]) => num === n)?.[0];
    if (!name) throw invalid(`${field}: ${v} is not a signal number`);
    return name;
  }
  if (typeof v !== "string") throw invalid(`${field} must be a signal name like SIGTERM`);
  const name = v.toUpperCase().startsWith("SIG") ? v.toUpperCase() : `SIG${v.toUpperCase()}`;
  if (!(name in constants.signals))
    throw invalid(`${field}: "${v}" is not a signal; use a name like SIGTERM`);
  return name;
}

export function validateLifecycle(body: Record<string, unknown>): Lifecycle {
  const t = body.stopTimeoutS;
  if (t !== undefined && t !== null && (typeof t !== "number" || !Number.isInteger(t) || t < 0)) {
    throw invalid("stopTimeoutS must be a whole number of seconds");
  }
  // The ports and volumes modules own these formats (shared with the CLI and compose).
  const publish = validatePublishList(body.publish);
  const noHealthcheck = bool(body, "noHealthcheck");
  if (noHealthcheck && body.healthcheck !== undefined && body.healthcheck !== null)
    throw invalid("give either healthcheck or noHealthcheck (--no-healthcheck), not both");
  return {
    restart: parseRestartPolicy(body.restart),
    healthcheck: parseHealthcheck(body.healthcheck),
    publish,
    tmpfs: list(body, "tmpfs", tmpfsFrom),
    tty: bool(body, "tty"),
    interactive: bool(body, "interactive"),
    stdinOnce: bool(body, "stdinOnce"),
    consoleSize: consoleSize(body),
    stopTimeoutS: typeof t === "number" ? t : 10,
    // Absent: the image's STOPSIGNAL, else SIGTERM (create-container decides).
    stopSignal:
      body.stopSignal === undefined || body.stopSignal === null
        ? undefined
        : parseSignal(body.stopSignal, "stopSignal"),
    noHealthcheck,
  };
}

/** The body of an update (weft update, the Weft API): limits as `weft run` takes them, and `restart`. */
export function validateUpdate(body: unknown): {
  memoryBytes?: number;
  cpus?: number;
  pids?: number;
  cpuShares?: number;
  restartPolicy?: RestartPolicy;
} {
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw invalid("the body must be a JSON object");
  const b = body as Record<string, unknown>;
  const known = ["memoryBytes", "cpus", "pids", "cpuShares", "restart"];
  for (const key of Object.keys(b)) {
    if (!known.includes(key)) throw invalid(`${key} cannot be updated; updatable: ${known.join(", ")}`);
  }
  const number = (key: string): number | undefined => {
    const v = b[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v))
      throw invalid(`${key} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const out = {
    memoryBytes: number("memoryBytes"),
    cpus: number("cpus"),
    pids: number("pids"),
    cpuShares: number("cpuShares"),
    restartPolicy: b.restart === undefined ? undefined : parseRestartPolicy(b.restart),
  };
  if (Object.values(out).every((v) => v === undefined))
    throw invalid("nothing to update: give memoryBytes, cpus, pids, cpuShares or restart");
  return out;
}
