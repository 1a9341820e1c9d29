// `--tmpfs DEST[:OPTIONS]` as Docker reads it: a memory-backed directory, empty at every start, with
// an optional size limit and mode. OPTIONS are comma-separated: size=64m (k, m, g or bytes), mode=1777
// (octal), exec / noexec, and Docker's defaults rw, nosuid, nodev (accepted; always on).
import { posix } from "node:path";
import type { TmpfsSpec } from "../engine/types";
import { VolumeError } from "./errors";

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
/** Options Docker applies anyway; accepted so `--tmpfs /run:rw,nosuid,nodev` from a compose file works. */
const ALWAYS_ON = new Set(["rw", "nosuid", "nodev"]);

function invalid(message: string): VolumeError {
  return new VolumeError("INVALID_VOLUME", message);
}

/** Parses one --tmpfs value (or an API `tmpfs` string; `field` names it in errors). */
export function parseTmpfs(value: string, field = "--tmpfs"): TmpfsSpec {
  const colon = value.indexOf(":");
  const destination = colon < 0 ? value : value.slice(0, colon);
  const spec: TmpfsSpec = { destination: checkDestination(destination, value, field), mode: 0o1777 };
  if (colon < 0) return spec;
  for (const option of value.slice(colon + 1).split(",")) {
    const [key, arg] = option.includes("=")
      ? [option.slice(0, option.indexOf("=")), option.slice(option.indexOf("=") + 1)]
      : [option, undefined];
    if (key === "size" && arg !== undefined) spec.sizeBytes = parseTmpfsSize(arg, value, field);
    else if (key === "mode" && arg !== undefined) spec.mode = parseMode(arg, value, field);
    else if (key === "exec" && arg === undefined) spec.exec = true;
    else if (key === "noexec" && arg === undefined) spec.exec = false;
    else if (!(ALWAYS_ON.has(key) && arg === undefined)) {
      throw invalid(
        `${field} "${value}": unknown option "${option}"; use size=64m, mode=1777, exec or noexec (comma-separated)`,
      );
    }
  }
  return spec;
}

/**
 * Checks a tmpfs mount given as a string (parsed as --tmpfs) or as an object {destination, sizeBytes?,
 * mode?, exec?} from the API; throws INVALID_VOLUME naming `field`.
 */
export function tmpfsFrom(value: unknown, field = "tmpfs"): TmpfsSpec {
  if (typeof value === "string") return parseTmpfs(value, field);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(
      `${field} must be a string like "/run:size=64m" or an object {destination, sizeBytes, mode}`,
    );
  }
  const o = value as Record<string, unknown>;
  if (typeof o["destination"] !== "string") throw invalid(`${field}.destination must be an absolute path`);
  const spec: TmpfsSpec = {
    destination: checkDestination(o["destination"], o["destination"], field),
    mode: 0o1777,
  };
  const size = o["sizeBytes"];
  if (size !== undefined) {
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 4096) {
      throw invalid(`${field}.sizeBytes must be a whole number of bytes, at least 4096, got ${String(size)}`);
    }
    spec.sizeBytes = size;
  }
  const mode = o["mode"];
  if (mode !== undefined) {
    if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
      throw invalid(`${field}.mode must be permission bits from 0 to 0o7777 (e.g. 1023 for 0o1777)`);
    }
    spec.mode = mode;
  }
  const exec = o["exec"];
  if (exec !== undefined) {
    if (typeof exec !== "boolean") throw invalid(`${field}.exec must be true or false`);
    spec.exec = exec;
  }
  return spec;
}

function checkDestination(path: string, value: string, field: string): string {
  if (!path.startsWith("/") || posix.normalize(path) === "/") {
    throw invalid(`${field} "${value}": the container path must be absolute and not "/"`);
  }
  if (path.split("/").includes(".."))
    throw invalid(`${field} "${value}": the container path may not contain ".."`);
  const p = posix.normalize(path);
  return p.length > 1 ? p.replace(/\/+$/, "") : p;
}

/** 64m, 512k, 1g, 1048576: bytes, at least one page (the kernel rounds up to pages anyway). */
function parseTmpfsSize(text: string, value: string, field: string): number {
  const m = /^(\d+)([bkmgt]?)$/i.exec(text);
  const bytes = m ? Number(m[1]) * UNITS[m[2]!.toLowerCase()]! : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 4096) {
    throw invalid(`${field} "${value}": size must be like 64m, 512k or 1g (at least 4k), got "${text}"`);
  }
  return bytes;
}

function parseMode(text: string, value: string, field: string): number {
  if (!/^[0-7]{1,4}$/.test(text)) {
    throw invalid(`${field} "${value}": mode must be octal permission bits like 1777 or 755, got "${text}"`);
  }
  return Number.parseInt(text, 8);
}
