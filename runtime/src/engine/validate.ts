// The one place where a run spec arriving from the wire (API body) is checked: takes `unknown`,
// returns a typed RunSpec or throws INVALID_ARGUMENT naming the field.
import { RuntimeError } from "../errors";
import { type ContainerNetworks, type PortSpec, type RunSpec, SIDECAR_PORTS } from "./types";
import { validateLifecycle } from "./validate-lifecycle";
import { validateRunOptions } from "./validate-options";

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
/** A mesh service name: a DNS label. */
export const SERVICE_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const LABEL_KEY_RE = /^[a-zA-Z0-9]([a-zA-Z0-9_./-]{0,61}[a-zA-Z0-9])?$/;

function invalid(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}

/** A container name as create and rename take it (Docker's rule, at most 63 characters). */
export function checkContainerName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw invalid(
      `name "${name}" is invalid: use 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit`,
    );
  }
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalid(`${field} must be a string`);
  return v;
}

function stringArray(body: Record<string, unknown>, field: string): string[] | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw invalid(`${field} must be an array of strings`);
  }
  return v as string[];
}

function positiveNumber(body: Record<string, unknown>, field: string, integer: boolean): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw invalid(`${field} must be a positive ${integer ? "integer" : "number"}`);
  }
  return v;
}

/** Parses "8080", "8080/http" or {port, protocol}; a bare port is "auto" (the sidecar detects). */
export function parsePort(value: unknown, field: string): PortSpec {
  let port: unknown;
  let protocol: unknown = "auto";
  if (typeof value === "number") {
    port = value;
  } else if (typeof value === "string") {
    const [p, proto, extra] = value.split("/");
    if (extra !== undefined) throw invalid(`${field} must look like 8080 or 8080/http, got "${value}"`);
    port = /^\d+$/.test(p ?? "") ? Number(p) : Number.NaN;
    if (proto !== undefined) protocol = proto;
  } else if (value && typeof value === "object") {
    port = (value as Record<string, unknown>).port;
    protocol = (value as Record<string, unknown>).protocol || "auto";
  }
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(
      `${field} must be a port number 1-65535 (optionally /auto, /http, /http2, /grpc, /tcp or /server-first), got ${JSON.stringify(value)}`,
    );
  }
  const protocols = ["auto", "http", "http2", "grpc", "tcp", "server-first"];
  if (typeof protocol !== "string" || !protocols.includes(protocol)) {
    throw invalid(
      `${field} protocol must be one of ${protocols.join(", ")}, got ${JSON.stringify(protocol)}`,
    );
  }
  return { port, protocol: protocol as PortSpec["protocol"] };
}

/** {NAME: {aliases: [...]}}: whether each network exists is the engine's to check. */
function parseNetworks(v: unknown): ContainerNetworks | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v))
    throw invalid('networks must be an object like {"NAME": {"aliases": []}}');
  const out: ContainerNetworks = {};
  for (const [name, entry] of Object.entries(v)) {
    const aliases = (entry as { aliases?: unknown } | null)?.aliases ?? [];
    if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === "string" && a !== "")) {
      throw invalid(`networks.${name}.aliases must be an array of names`);
    }
    out[name] = { aliases: [...new Set(aliases as string[])] };
  }
  return out;
}

export function validateRunSpec(input: unknown): RunSpec {
  if (!input || typeof input !== "object" || Array.isArray(input))
    throw invalid("body must be a JSON object");
  const body = input as Record<string, unknown>;
  const image = optionalString(body, "image");
  if (!image) throw invalid("image is required (the name of an imported image)");
  const name = optionalString(body, "name");
  if (name !== undefined) checkContainerName(name);
  const cmd = stringArray(body, "cmd");
  const env = stringArray(body, "env") ?? [];
  env.forEach((e, i) => {
    if (e.indexOf("=") <= 0) throw invalid(`env[${i}] must be KEY=VALUE, got "${e}"`);
  });
  const service = optionalString(body, "service");
  if (service !== undefined && !SERVICE_RE.test(service)) {
    throw invalid(`service "${service}" is invalid: use lower-case letters, digits and '-' (a DNS label)`);
  }
  const rawPorts = body.ports ?? [];
  if (!Array.isArray(rawPorts)) throw invalid("ports must be an array");
  const ports = rawPorts.map((p, i) => parsePort(p, `ports[${i}]`));
  const seen = new Set<number>();
  ports.forEach((p, i) => {
    if (seen.has(p.port)) throw invalid(`ports[${i}]: port ${p.port} is declared twice`);
    seen.add(p.port);
  });
  const labels = body.labels ?? {};
  if (typeof labels !== "object" || labels === null || Array.isArray(labels)) {
    throw invalid("labels must be an object of strings");
  }
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY_RE.test(k))
      throw invalid(`labels key "${k}" is invalid: use letters, digits, '_', '.', '/', '-'`);
    if (typeof v !== "string") throw invalid(`labels.${k} must be a string`);
  }
  const sidecar = body.sidecar ?? true;
  if (typeof sidecar !== "boolean") throw invalid("sidecar must be a boolean");
  if (sidecar) {
    ports.forEach((p, i) => {
      if (SIDECAR_PORTS.includes(p.port)) {
        throw invalid(
          `ports[${i}]: port ${p.port} is used by the sidecar (${SIDECAR_PORTS.join(", ")}); choose another`,
        );
      }
    });
  }
  const options = validateRunOptions(body);
  return {
    image,
    name,
    cmd,
    env,
    service,
    ports,
    labels: labels as Record<string, string>,
    memoryBytes: positiveNumber(body, "memoryBytes", true),
    cpus: positiveNumber(body, "cpus", false),
    pids: positiveNumber(body, "pids", true),
    cpuShares: positiveNumber(body, "cpuShares", true),
    sidecar,
    networks: parseNetworks(body.networks),
    ...options,
    ...validateLifecycle(body),
  };
}
