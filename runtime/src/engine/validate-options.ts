// The Docker-style run options (isolation, mounts, process) of an API body: each checked here and
// named in the error, so `weft run` and a raw API client get the same messages.
import { RuntimeError } from "../errors";
import { normalizeCapability } from "../oci/index";
import { parseVolume } from "../volumes/index";
import type { RunSpec } from "./types";

type Body = Record<string, unknown>;

function invalid(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}

function bool(body: Body, field: string, flag: string): boolean {
  const v = body[field] ?? false;
  if (typeof v !== "boolean") throw invalid(`${field} (${flag}) must be a boolean`);
  return v;
}

function strings(body: Body, field: string, flag: string): string[] | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw invalid(`${field} (${flag}) must be an array of strings`);
  }
  return v as string[];
}

function str(body: Body, field: string, flag: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalid(`${field} (${flag}) must be a string`);
  return v;
}

const HOSTNAME_RE =
  /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const USER_RE = /^([0-9]+|[a-z_][a-z0-9_.-]{0,31})(:([0-9]+|[a-z_][a-z0-9_.-]{0,31}))?$/;

/** The isolation, mount and process options of a run: the part of RunSpec this module validates. */
export type RunOptions = Pick<
  RunSpec,
  | "user"
  | "entrypoint"
  | "workdir"
  | "hostname"
  | "readOnly"
  | "privileged"
  | "capAdd"
  | "capDrop"
  | "seccomp"
  | "autoRemove"
  | "volumes"
  | "userns"
>;

/** Reads the isolation, mount and process options of a run body. */
export function validateRunOptions(body: Body): RunOptions {
  const user = str(body, "user", "--user");
  if (user !== undefined && !USER_RE.test(user)) {
    throw invalid(`user (--user) must be UID[:GID] or NAME[:GROUP], got "${user}"`);
  }
  const entrypoint = strings(body, "entrypoint", "--entrypoint");
  const workdir = str(body, "workdir", "-w");
  if (workdir !== undefined && !workdir.startsWith("/")) {
    throw invalid(`workdir (-w) must be an absolute path, got "${workdir}"`);
  }
  const hostname = str(body, "hostname", "--hostname");
  if (hostname !== undefined && (hostname.length > 253 || !HOSTNAME_RE.test(hostname))) {
    throw invalid(`hostname (--hostname) "${hostname}" is not a valid host name (letters, digits, '-', '.')`);
  }
  const capAdd = (strings(body, "capAdd", "--cap-add") ?? []).map((c) =>
    wrap(() => normalizeCapability(c, "--cap-add")),
  );
  const capDrop = (strings(body, "capDrop", "--cap-drop") ?? []).map((c) =>
    wrap(() => normalizeCapability(c, "--cap-drop")),
  );
  let seccomp = "default";
  for (const opt of strings(body, "securityOpt", "--security-opt") ?? []) {
    const [key, value] = opt.split(/[=:](.*)/s) as [string, string | undefined];
    if (key === "seccomp" && value !== undefined && value !== "") {
      if (value !== "unconfined" && !value.startsWith("/")) {
        throw invalid(
          `--security-opt seccomp= takes "unconfined" or an absolute profile path, got "${value}"`,
        );
      }
      seccomp = value;
    } else if (key === "no-new-privileges" && (value === undefined || value === "true")) {
      // Always on in weft.
    } else {
      throw invalid(
        `--security-opt "${opt}" is not supported; use seccomp=unconfined, seccomp=/path/profile.json or no-new-privileges`,
      );
    }
  }
  const volumes = (strings(body, "volumes", "-v") ?? []).map((v) => wrap(() => parseVolume(v, "-v")));
  const seen = new Set<string>();
  for (const v of volumes) {
    if (seen.has(v.destination)) throw invalid(`-v: ${v.destination} is mounted twice`);
    seen.add(v.destination);
  }
  const userns = str(body, "userns", "--userns") ?? "host";
  if (userns !== "host" && userns !== "auto") {
    throw invalid(`userns (--userns) must be "host" or "auto", got "${userns}"`);
  }
  return {
    user,
    entrypoint,
    workdir,
    hostname,
    readOnly: bool(body, "readOnly", "--read-only"),
    privileged: bool(body, "privileged", "--privileged"),
    capAdd,
    capDrop,
    seccomp,
    autoRemove: bool(body, "autoRemove", "--rm"),
    volumes,
    userns,
  };
}

/** Other modules' validation errors become INVALID_ARGUMENT with their message (which names the flag). */
function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw invalid((err as Error).message);
  }
}
