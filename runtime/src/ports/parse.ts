// `-p [IP:]HOSTPORT:PORT[/tcp]` as Docker reads it, and the same as an API body entry (string or
// object). One place for both, so `weft run -p`, the Weft API and compose give the same messages.
import { isIPv4 } from "node:net";
import type { PublishSpec } from "../engine/types";
import { RuntimeError } from "../errors";

/** The host address a published port listens on when none is given (the daemon's --publish-ip). */
export const DEFAULT_PUBLISH_IP = "127.0.0.1";

export interface ParsePublishOptions {
  /** Names the value in errors: "-p", "publish[0]", "services.web.publish[1]". Default "-p". */
  flag?: string;
  /** Default DEFAULT_PUBLISH_IP. */
  defaultHostIp?: string;
}

function invalid(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}

const FORMAT = "[IP:]HOSTPORT:PORT[/tcp] (e.g. 8080:80 or 127.0.0.1:8080:80; HOSTPORT 0 picks a free port)";

function portNumber(text: string, min: number, what: string, flag: string, value: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > 65535) {
    throw invalid(`${flag} "${value}": ${what} must be a number ${min}-65535; use ${FORMAT}`);
  }
  return n;
}

/** Parses "[IP:]HOSTPORT:PORT[/tcp]"; throws INVALID_ARGUMENT naming the flag. */
export function parsePublish(value: string, opts: ParsePublishOptions = {}): PublishSpec {
  const flag = opts.flag ?? "-p";
  const [addr, protocol, extra] = value.trim().split("/");
  if (extra !== undefined || addr === undefined || addr === "") {
    throw invalid(`${flag} "${value}" must look like ${FORMAT}`);
  }
  if (protocol !== undefined && protocol !== "tcp") {
    throw invalid(`${flag} "${value}": only tcp can be published, got "/${protocol}"`);
  }
  const parts = addr.split(":");
  if (parts.length < 2 || parts.length > 3) {
    throw invalid(`${flag} "${value}" must look like ${FORMAT}`);
  }
  const hostIp = parts.length === 3 ? parts[0]! : (opts.defaultHostIp ?? DEFAULT_PUBLISH_IP);
  if (!isIPv4(hostIp)) {
    throw invalid(`${flag} "${value}": the host address must be an IPv4 address such as 127.0.0.1`);
  }
  const hostPort = portNumber(parts[parts.length - 2]!, 0, "HOSTPORT", flag, value);
  const containerPort = portNumber(parts[parts.length - 1]!, 1, "PORT", flag, value);
  return { hostIp, hostPort, containerPort, protocol: "tcp" };
}

/** An API body's `publish` list: strings as -p, or {hostIp?, hostPort?, containerPort, protocol?}. */
export function validatePublishList(
  input: unknown,
  opts: { field?: string; defaultHostIp?: string } = {},
): PublishSpec[] {
  const field = opts.field ?? "publish";
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw invalid(`${field} must be an array of "[IP:]HOSTPORT:PORT" strings`);
  const specs = input.map((item, i) => {
    const flag = `${field}[${i}]`;
    if (typeof item === "string") return parsePublish(item, { flag, defaultHostIp: opts.defaultHostIp });
    if (item && typeof item === "object" && !Array.isArray(item)) {
      const o = item as Record<string, unknown>;
      const text = `${o.hostIp ?? opts.defaultHostIp ?? DEFAULT_PUBLISH_IP}:${o.hostPort ?? 0}:${o.containerPort}/${o.protocol ?? "tcp"}`;
      return parsePublish(text, { flag, defaultHostIp: opts.defaultHostIp });
    }
    throw invalid(`${flag} must be a string "[IP:]HOSTPORT:PORT" or {hostIp, hostPort, containerPort}`);
  });
  const seen = new Set<string>();
  specs.forEach((s, i) => {
    if (s.hostPort === 0) return;
    const key = `${s.hostIp}:${s.hostPort}`;
    if (seen.has(key)) throw invalid(`${field}[${i}]: host port ${key} is published twice`);
    seen.add(key);
  });
  return specs;
}
