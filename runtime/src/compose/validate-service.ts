// One entry of `services:`: every field checked and turned into a ServiceConfig.
import { isAbsolute, resolve } from "node:path";
import type { PortProtocol, RestartPolicy } from "../engine/types";
import { normalizeCapability } from "../oci/index";
import { parsePublish } from "../ports/index";
import { parseTmpfs } from "../volumes/index";
import { describe, type FieldContext, type FieldPath } from "./fields";
import type { DependsCondition, ServiceConfig } from "./manifest";
import { parseSizeBytes, shellWords } from "./text";
import { readHealthcheck } from "./validate-health";

export const SERVICE_FIELDS = [
  "image",
  "command",
  "entrypoint",
  "environment",
  "replicas",
  "ports",
  "publish",
  "labels",
  "resources",
  "volumes",
  "healthcheck",
  "restart",
  "sidecar",
  "service",
  "depends_on",
  "user",
  "workdir",
  "read_only",
  "cap_add",
  "cap_drop",
  "tmpfs",
] as const;

const PROTOCOLS: PortProtocol[] = ["auto", "http", "http2", "grpc", "tcp", "server-first"];
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface ServiceContext {
  ctx: FieldContext;
  /** The manifest's directory: relative bind-mount sources are resolved from here. */
  dir: string;
  /** Named volumes declared at the top level. */
  volumes: string[];
  /** Prefix of named volumes ("PROJECT_"), applied when the project is known. */
  volumePrefix: string;
}

export function readService(sc: ServiceContext, name: string, raw: unknown): ServiceConfig {
  const { ctx } = sc;
  const at = (...p: FieldPath): FieldPath => ["services", name, ...p];
  const v = ctx.map(at(), raw, "service fields (image, command, ...)");
  ctx.onlyKeys(at(), v, SERVICE_FIELDS);
  if (v.image === undefined) throw ctx.error(at("image"), "is required (the name of an imported image)");
  const service = v.service === undefined ? name : ctx.string(at("service"), v.service);
  if (!DNS_LABEL.test(service)) {
    throw ctx.error(
      at("service"),
      `"${service}" is not a valid mesh service name (lower-case letters, digits and '-')${v.service === undefined ? `; the key "${name}" is used by default, so set service: to a valid name` : ""}`,
    );
  }
  const resources = readResources(sc, at("resources"), v.resources);
  const replicas = v.replicas === undefined ? 1 : ctx.integer(at("replicas"), v.replicas, 0, 100);
  const publish = (v.publish === undefined ? [] : ctx.stringList(at("publish"), v.publish)).map((p, i) => {
    try {
      parsePublish(p, { flag: "" });
    } catch (err) {
      throw ctx.error(at("publish", i), (err as Error).message.replace(/^ "/, '"'));
    }
    return p;
  });
  const held = fixedHostPortProblem(publish, replicas);
  if (held) throw ctx.error(at("publish", held.index), held.message);
  return {
    name,
    image: ctx.string(at("image"), v.image, "an image name"),
    command: v.command === undefined ? undefined : words(sc, at("command"), v.command),
    entrypoint: v.entrypoint === undefined ? undefined : words(sc, at("entrypoint"), v.entrypoint),
    environment: readEnvironment(sc, at("environment"), v.environment),
    replicas,
    ports: (v.ports === undefined ? [] : listOf(sc, at("ports"), v.ports)).map((p, i) =>
      readPort(sc, at("ports", i), p),
    ),
    publish,
    labels: readLabels(sc, at("labels"), v.labels),
    ...resources,
    volumes: (v.volumes === undefined ? [] : ctx.stringList(at("volumes"), v.volumes)).map((m, i) =>
      readVolume(sc, at("volumes", i), m),
    ),
    healthcheck:
      v.healthcheck === undefined ? undefined : readHealthcheck(ctx, at("healthcheck"), v.healthcheck),
    restart:
      v.restart === undefined ? { name: "no", maxRetries: 0 } : readRestart(sc, at("restart"), v.restart),
    sidecar: v.sidecar === undefined ? true : ctx.bool(at("sidecar"), v.sidecar),
    service,
    dependsOn: readDependsOn(sc, at("depends_on"), v.depends_on),
    user:
      v.user === undefined
        ? undefined
        : String(typeof v.user === "number" ? v.user : ctx.string(at("user"), v.user)),
    workdir: v.workdir === undefined ? undefined : absolute(sc, at("workdir"), v.workdir),
    readOnly: v.read_only === undefined ? false : ctx.bool(at("read_only"), v.read_only),
    capAdd: readCaps(sc, at("cap_add"), v.cap_add),
    capDrop: readCaps(sc, at("cap_drop"), v.cap_drop),
    tmpfs: (v.tmpfs === undefined ? [] : ctx.oneOrList(at("tmpfs"), v.tmpfs, "paths")).map((m, i) => {
      // The volumes module owns the format (shared with --tmpfs and the API).
      const path = typeof v.tmpfs === "string" ? at("tmpfs") : at("tmpfs", i);
      try {
        parseTmpfs(m, "");
      } catch (err) {
        throw ctx.error(path, (err as Error).message.replace(/^ "/, '"'));
      }
      return m;
    }),
  };
}

/**
 * Why `replicas` containers cannot all publish these ports: a fixed host port can be bound by one
 * of them only (docker compose finds out when the second one fails to start). Undefined when they can.
 */
export function fixedHostPortProblem(
  publish: string[],
  replicas: number,
): { index: number; message: string } | undefined {
  if (replicas <= 1) return undefined;
  const index = publish.findIndex((p) => parsePublish(p, { flag: "" }).hostPort !== 0);
  if (index < 0) return undefined;
  const spec = publish[index] as string;
  const { hostPort } = parsePublish(spec, { flag: "" });
  // The same entry with host port 0: "127.0.0.1:18080:8080" becomes "127.0.0.1:0:8080".
  const parts = spec.split("/")[0]?.split(":") ?? [];
  parts[parts.length - 2] = "0";
  return {
    index,
    message: `host port ${hostPort} can be published by one container only, not by ${replicas} replicas; publish "${parts.join(":")}" (each gets a free port) or keep replicas at 1`,
  };
}

function listOf(sc: ServiceContext, path: FieldPath, v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  throw sc.ctx.error(path, `must be a list, got ${describe(v)}`);
}

function words(sc: ServiceContext, path: FieldPath, v: unknown): string[] {
  if (typeof v === "string") {
    const w = shellWords(v);
    if (!w) throw sc.ctx.error(path, `has an unclosed quote: ${JSON.stringify(v)}`);
    return w;
  }
  return sc.ctx.stringList(path, v, "arguments (or one string, split like a shell does)");
}

function readEnvironment(sc: ServiceContext, path: FieldPath, v: unknown): string[] {
  if (v === undefined) return [];
  if (Array.isArray(v)) {
    return sc.ctx.stringList(path, v).map((e, i) => {
      if (!ENV_KEY.test(e.split("=")[0] ?? "") || !e.includes("=")) {
        throw sc.ctx.error([...path, i], `must be KEY=VALUE, got ${JSON.stringify(e)}`);
      }
      return e;
    });
  }
  const map = sc.ctx.map(path, v, "KEY: VALUE (or a list of KEY=VALUE)");
  return Object.entries(map).map(([k, value]) => {
    if (!ENV_KEY.test(k)) throw sc.ctx.error([...path, k], "is not a valid variable name");
    if (value === null) return `${k}=`;
    if (typeof value === "object")
      throw sc.ctx.error([...path, k], `must be a string, number or boolean, got ${describe(value)}`);
    return `${k}=${String(value)}`;
  });
}

function readPort(sc: ServiceContext, path: FieldPath, v: unknown): { port: number; protocol: PortProtocol } {
  const text = typeof v === "number" ? String(v) : typeof v === "string" ? v : undefined;
  const m = text === undefined ? null : /^(\d{1,5})(?:\/([a-z0-9-]+))?$/.exec(text);
  const port = m ? Number(m[1]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw sc.ctx.error(
      path,
      `must be a port 1-65535 with an optional protocol, like 8080/http, got ${describe(v)}`,
    );
  }
  const protocol = (m[2] ?? "auto") as PortProtocol;
  if (!PROTOCOLS.includes(protocol)) {
    throw sc.ctx.error(path, `protocol "${protocol}" is not one of ${PROTOCOLS.join(", ")}`);
  }
  return { port, protocol };
}

function readLabels(sc: ServiceContext, path: FieldPath, v: unknown): Record<string, string> {
  if (v === undefined) return {};
  const entries: Array<[string, unknown, FieldPath]> = Array.isArray(v)
    ? sc.ctx.stringList(path, v).map((l, i) => {
        const eq = l.indexOf("=");
        if (eq <= 0) throw sc.ctx.error([...path, i], `must be KEY=VALUE, got ${JSON.stringify(l)}`);
        return [l.slice(0, eq), l.slice(eq + 1), [...path, i]];
      })
    : Object.entries(sc.ctx.map(path, v, "KEY: VALUE")).map(([k, val]) => [k, val, [...path, k]]);
  const out: Record<string, string> = {};
  for (const [k, val, p] of entries) {
    if (k.startsWith("weft."))
      throw sc.ctx.error(p, "is reserved: labels starting with weft. are set by weft up");
    if (typeof val === "object" && val !== null)
      throw sc.ctx.error(p, `must be a string, got ${describe(val)}`);
    out[k] = val === null ? "" : String(val);
  }
  return out;
}

function readResources(sc: ServiceContext, path: FieldPath, v: unknown) {
  if (v === undefined) return {};
  const r = sc.ctx.map(path, v, "memory, cpus, pids");
  sc.ctx.onlyKeys(path, r, ["memory", "cpus", "pids"]);
  let memoryBytes: number | undefined;
  if (r.memory !== undefined) {
    memoryBytes = typeof r.memory === "number" ? r.memory : parseSizeBytes(String(r.memory));
    if (!memoryBytes || memoryBytes <= 0) {
      throw sc.ctx.error(
        [...path, "memory"],
        `must be a size like 64m, 512k or 1g, got ${describe(r.memory)}`,
      );
    }
  }
  let cpus: number | undefined;
  if (r.cpus !== undefined) {
    cpus = Number(r.cpus);
    if (!(typeof r.cpus === "number" || typeof r.cpus === "string") || !Number.isFinite(cpus) || cpus <= 0) {
      throw sc.ctx.error(
        [...path, "cpus"],
        `must be a positive number of CPUs like 0.5, got ${describe(r.cpus)}`,
      );
    }
  }
  const pids = r.pids === undefined ? undefined : sc.ctx.integer([...path, "pids"], r.pids, 1);
  return { memoryBytes, cpus, pids };
}

function readVolume(sc: ServiceContext, path: FieldPath, m: string): string {
  const parts = m.split(":");
  if (
    parts.length < 2 ||
    parts.length > 3 ||
    (parts[2] !== undefined && parts[2] !== "ro" && parts[2] !== "rw")
  ) {
    throw sc.ctx.error(
      path,
      `must look like ./host/path:/in/container[:ro] or VOLUME:/in/container[:ro], got ${JSON.stringify(m)}`,
    );
  }
  const [src, dest, mode] = parts as [string, string, string | undefined];
  if (!dest.startsWith("/"))
    throw sc.ctx.error(path, `the container path must be absolute, got ${JSON.stringify(dest)}`);
  const suffix = mode ? `:${mode}` : "";
  if (src.startsWith("/") || src.startsWith(".") || src.startsWith("~")) {
    if (src.startsWith("~"))
      throw sc.ctx.error(path, "a host path must be absolute or relative to the file (./data), not ~");
    return `${isAbsolute(src) ? src : resolve(sc.dir, src)}:${dest}${suffix}`;
  }
  if (!VOLUME_NAME.test(src))
    throw sc.ctx.error(path, `"${src}" is neither a path (./data, /srv/data) nor a volume name`);
  if (!sc.volumes.includes(src)) {
    throw sc.ctx.error(
      path,
      `uses the volume "${src}", which is not declared; add it under the top-level volumes: (volumes: {${src}: {}})`,
    );
  }
  return `${sc.volumePrefix}${src}:${dest}${suffix}`;
}

function readRestart(sc: ServiceContext, path: FieldPath, v: unknown): RestartPolicy {
  if (v === false) return { name: "no", maxRetries: 0 };
  const allowed = `"no", "always", "unless-stopped" or "on-failure[:N]"`;
  const s = sc.ctx.string(path, v, allowed);
  if (s === "no" || s === "always" || s === "unless-stopped") return { name: s, maxRetries: 0 };
  const m = /^on-failure(?::(\d+))?$/.exec(s);
  if (m) return { name: "on-failure", maxRetries: m[1] ? Number(m[1]) : 0 };
  throw sc.ctx.error(path, `must be ${allowed}, got ${JSON.stringify(s)}`);
}

function readDependsOn(sc: ServiceContext, path: FieldPath, v: unknown): ServiceConfig["dependsOn"] {
  if (v === undefined) return [];
  if (Array.isArray(v))
    return sc.ctx
      .stringList(path, v, "service names")
      .map((s) => ({ service: s, condition: "service_started" }));
  const map = sc.ctx.map(path, v, "service names (or a list of them)");
  return Object.entries(map).map(([s, dep]) => {
    if (dep === null) return { service: s, condition: "service_started" };
    const d = sc.ctx.map([...path, s], dep, "condition");
    sc.ctx.onlyKeys([...path, s], d, ["condition"]);
    const condition = d.condition ?? "service_started";
    if (condition !== "service_started" && condition !== "service_healthy") {
      throw sc.ctx.error(
        [...path, s, "condition"],
        `must be service_started or service_healthy, got ${describe(condition)}`,
      );
    }
    return { service: s, condition: condition as DependsCondition };
  });
}

function readCaps(sc: ServiceContext, path: FieldPath, v: unknown): string[] {
  if (v === undefined) return [];
  return sc.ctx.stringList(path, v, "capability names").map((c, i) => {
    try {
      normalizeCapability(c, "");
    } catch {
      throw sc.ctx.error(
        [...path, i],
        `"${c}" is not a capability; use a name like NET_ADMIN or ALL (see capabilities(7))`,
      );
    }
    return c;
  });
}

function absolute(sc: ServiceContext, path: FieldPath, v: unknown): string {
  const s = sc.ctx.string(path, v, "an absolute path");
  if (!s.startsWith("/")) throw sc.ctx.error(path, `must be an absolute path, got ${JSON.stringify(s)}`);
  return s;
}
