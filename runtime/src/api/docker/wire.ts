// Docker's HTTP conventions in one place: errors as {"message": "..."} with Docker's status codes and
// wording (the docker CLI prints the message after "Error response from daemon: "), query parsing,
// and the 8-byte frame header of a multiplexed stdout/stderr stream.
import type { IncomingMessage, ServerResponse } from "node:http";
import { RuntimeError } from "../../errors";

export const MAX_API_VERSION = "1.50";

/** a < b for "X.Y" API versions. */
export function versionBefore(a: string, b: string): boolean {
  const [am = 0, an = 0] = a.split(".").map(Number);
  const [bm = 0, bn = 0] = b.split(".").map(Number);
  return am !== bm ? am < bm : an < bn;
}
export const MIN_API_VERSION = "1.24";

/** An error with the HTTP status and message Docker would answer. */
export function dockerError(status: number, message: string): RuntimeError {
  const code = status === 404 ? "CONTAINER_NOT_FOUND" : status === 400 ? "INVALID_ARGUMENT" : "INTERNAL";
  return Object.assign(new RuntimeError(code, message), { status });
}

export function badRequest(message: string): RuntimeError {
  return dockerError(400, message);
}

/** Docker's query booleans: "1", "true", "True" are true; "", "0", "false" and absence are not. */
export function flag(query: URLSearchParams, name: string, fallback = false): boolean {
  const v = query.get(name);
  if (v === null || v === "") return fallback;
  return v === "1" || v.toLowerCase() === "true";
}

/** `filters` is {"key": ["v", ...]} (or the legacy {"key": {"v": true}}). */
export function parseFilters(query: URLSearchParams): Map<string, string[]> {
  const raw = query.get("filters");
  const out = new Map<string, string[]>();
  if (!raw) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badRequest(`invalid filter: filters must be a JSON object, got ${JSON.stringify(raw)}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw badRequest("invalid filter: filters must be a JSON object of lists");
  }
  for (const [k, v] of Object.entries(parsed)) {
    if (Array.isArray(v)) out.set(k, v.map(String));
    else if (v && typeof v === "object") out.set(k, Object.keys(v));
    else throw badRequest(`invalid filter '${k}': its values must be a list`);
  }
  return out;
}

/** parseFilters for a prune that takes only `key=`: another key is a 400 naming what it takes. */
export function pruneFilters(query: URLSearchParams, what: string, key: string): string[] {
  const filters = parseFilters(query);
  for (const k of filters.keys()) {
    if (k !== key) throw badRequest(`invalid filter '${k}': weft's ${what} prune takes ${key}= only`);
  }
  return filters.get(key) ?? [];
}

/** A Unix time in seconds ("1700000000" or "1700000000.5"); undefined when absent. For `until`,
 * 0 means "no end" (as in Docker), so pass `zeroIsUnset`. */
export function unixTime(query: URLSearchParams, name: string, zeroIsUnset = false): Date | undefined {
  const v = query.get(name);
  if (v === null || v === "") return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(v)) {
    throw badRequest(`${name} must be a Unix timestamp in seconds, got "${v}"`);
  }
  const seconds = Math.max(0, Number(v));
  if (seconds === 0 && zeroIsUnset) return undefined;
  return new Date(seconds * 1000);
}

export function sendDockerJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Api-Version": MAX_API_VERSION,
    "Docker-Experimental": "false",
    OSType: "linux",
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { "Api-Version": MAX_API_VERSION }).end();
}

/** Starts a streamed answer: the headers go out now (the CLI waits for them, e.g. for /wait). */
export function startStream(res: ServerResponse, contentType: string): void {
  res.writeHead(200, { "Content-Type": contentType, "Api-Version": MAX_API_VERSION });
  res.flushHeaders();
}

/** Stream 1 = stdout, 2 = stderr, then 3 zero bytes, then the payload's length (big-endian). */
export function frame(stream: "stdout" | "stderr", data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream === "stdout" ? 1 : 2;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** Resolves when the client goes away (the caller stops streaming then). */
export function clientGone(req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (req.socket.destroyed) resolve();
    res.once("close", () => resolve());
  });
}

/** Docker's time format; the zero time for "never". */
export function dockerTime(iso: string | undefined): string {
  return iso ?? "0001-01-01T00:00:00Z";
}

/** Docker's ids are "sha256:<hex>" for images. */
export function imageId(hex: string): string {
  return hex.startsWith("sha256:") ? hex : `sha256:${hex}`;
}

/**
 * A Docker Env list: `NAME=VALUE` entries, where a bare `NAME` is a variable the client was asked
 * to pass from its own environment and did not have (`docker run -e NAME`, compose's
 * `environment: [NAME]`): Docker leaves it unset, so it is dropped here too.
 */
export function dockerEnv(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string"))
    throw badRequest(`${field} must be a list of strings`);
  for (const e of v as string[])
    if (e === "" || e.startsWith("=")) throw badRequest(`invalid environment variable: "${e}" has no name`);
  return (v as string[]).filter((e) => e.includes("="));
}
