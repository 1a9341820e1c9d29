// The image config blob (OCI image-spec config.md, same as Docker's), validated in one place: every
// field Weft uses is checked for its type, and errors name the field.
import { ImageError } from "./errors";
import type { ImageConfig, ImageHealthcheck } from "./record";

export interface ParsedConfig {
  config: ImageConfig;
  /** rootfs.diff_ids, bottom layer first. */
  diffIds: string[];
  /** The config's `created`, when it is a valid time. */
  created?: string;
}

export function parseImageConfig(raw: unknown, what: string): ParsedConfig {
  const bad = (field: string, want: string) =>
    new ImageError("BAD_ARCHIVE", `${what}: ${field} must be ${want}; the image config is malformed`);
  if (!isObject(raw)) throw bad("the config", "a JSON object");
  const rootfs = raw.rootfs;
  if (!isObject(rootfs) || !isStringArray(rootfs.diff_ids)) throw bad("rootfs.diff_ids", "a list of digests");
  if (rootfs.type !== undefined && rootfs.type !== "layers") throw bad("rootfs.type", '"layers"');
  const c = raw.config ?? {};
  if (!isObject(c)) throw bad("config", "an object");
  const strings = (field: string): string[] => {
    const v = c[field];
    if (v === undefined || v === null) return [];
    if (!isStringArray(v)) throw bad(`config.${field}`, "a list of strings");
    return v;
  };
  const text = (field: string, fallback: string): string => {
    const v = c[field];
    if (v === undefined || v === null || v === "") return fallback;
    if (typeof v !== "string") throw bad(`config.${field}`, "a string");
    return v;
  };
  const ports = c.ExposedPorts ?? {};
  if (!isObject(ports)) throw bad("config.ExposedPorts", 'an object like {"80/tcp": {}}');
  const labels = c.Labels ?? {};
  if (!isObject(labels) || !Object.values(labels).every((v) => typeof v === "string")) {
    throw bad("config.Labels", "an object of strings");
  }
  const created = typeof raw.created === "string" && !Number.isNaN(Date.parse(raw.created));
  const stopSignal = text("StopSignal", "");
  const healthcheck = parseHealthcheck(c.Healthcheck, bad);
  return {
    config: {
      env: strings("Env"),
      cmd: strings("Cmd"),
      entrypoint: strings("Entrypoint"),
      workdir: text("WorkingDir", "/"),
      user: text("User", ""),
      exposedPorts: Object.keys(ports).map((p) => (p.includes("/") ? p : `${p}/tcp`)),
      labels: labels as Record<string, string>,
      ...(healthcheck ? { healthcheck } : {}),
      ...(stopSignal ? { stopSignal } : {}),
    },
    diffIds: rootfs.diff_ids,
    created: created ? new Date(raw.created as string).toISOString() : undefined,
  };
}

/** Config.Healthcheck: Test a list of strings (CMD, CMD-SHELL or NONE first), times in nanoseconds. */
function parseHealthcheck(
  v: unknown,
  bad: (field: string, want: string) => ImageError,
): ImageHealthcheck | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw bad("config.Healthcheck", "an object");
  const test = v.Test;
  if (!isStringArray(test) || test.length === 0) return undefined; // inherit: nothing of its own
  if (!["CMD", "CMD-SHELL", "NONE"].includes(test[0] as string))
    throw bad("config.Healthcheck.Test", 'a list starting with "CMD", "CMD-SHELL" or "NONE"');
  const out: ImageHealthcheck = { test };
  const fields = [
    ["Interval", "intervalNs"],
    ["Timeout", "timeoutNs"],
    ["StartPeriod", "startPeriodNs"],
    ["Retries", "retries"],
  ] as const;
  for (const [field, key] of fields) {
    const n = v[field];
    if (n === undefined || n === null || n === 0) continue;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0)
      throw bad(`config.Healthcheck.${field}`, "a whole number (nanoseconds; Retries a count)");
    out[key] = n;
  }
  return out;
}

/** Docker's JSON form of an image health check. */
export function healthcheckJson(h: ImageHealthcheck): Record<string, unknown> {
  return {
    Test: h.test,
    ...(h.intervalNs ? { Interval: h.intervalNs } : {}),
    ...(h.timeoutNs ? { Timeout: h.timeoutNs } : {}),
    ...(h.startPeriodNs ? { StartPeriod: h.startPeriodNs } : {}),
    ...(h.retries ? { Retries: h.retries } : {}),
  };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/**
 * An OCI image config (as `docker save` writes it and `docker load` reads it) for `config`, whose
 * layers' tars have `diffIds` (bottom first); its sha256 is the image's id.
 */
export function ociConfigJson(
  config: ImageConfig,
  o: { created: string; author?: string; diffIds: string[]; history: Array<Record<string, string>> },
): string {
  return JSON.stringify({
    created: o.created,
    ...(o.author ? { author: o.author } : {}),
    architecture: "amd64",
    os: "linux",
    config: {
      Env: config.env,
      Cmd: config.cmd,
      Entrypoint: config.entrypoint.length > 0 ? config.entrypoint : null,
      WorkingDir: config.workdir,
      User: config.user,
      ExposedPorts: Object.fromEntries(config.exposedPorts.map((p) => [p, {}])),
      Labels: config.labels,
      ...(config.healthcheck ? { Healthcheck: healthcheckJson(config.healthcheck) } : {}),
      ...(config.stopSignal ? { StopSignal: config.stopSignal } : {}),
    },
    rootfs: { type: "layers", diff_ids: o.diffIds },
    history: o.history,
  });
}
