// Consul's agent service definition (PUT /v1/agent/service/register) validated into Weft's terms.
// Consul decodes JSON field names case-insensitively and also accepts snake_case, so "Name", "name"
// and "deregister_critical_service_after" all work here too.
import { isIP } from "node:net";
import type { Result } from "./validate";
import { endpointAddressProblem, isServiceName } from "./validate";

export type CheckStatus = "passing" | "warning" | "critical";

export interface CheckDefinition {
  id: string;
  name: string;
  serviceId: string;
  kind: "http" | "tcp" | "ttl";
  /** The URL (http), "host:port" (tcp), or "" (ttl). */
  target: string;
  /** HTTP method; default GET. */
  method: string;
  header: Record<string, string[]>;
  /** How often http/tcp checks run; 0 for ttl. */
  intervalMs: number;
  /** How long one http/tcp attempt may take. Consul's default 10 s. */
  timeoutMs: number;
  /** A ttl check goes critical when not updated within this. */
  ttlMs: number;
  /** Deregister the service after the check has been critical this long; 0 = never. */
  deregisterAfterMs: number;
  /** The status before the first result; Consul starts checks critical. */
  initialStatus: CheckStatus;
  notes: string;
}

/** One of a service's tagged addresses (Consul's ServiceAddress). */
export interface ServiceAddress {
  address: string;
  port: number;
}

/** Consul's service Weights: the DNS SRV weight of an instance whose checks pass, or warn. */
export interface ServiceWeights {
  passing: number;
  warning: number;
}

/** Consul's default Weights, for a service registered without them. */
export const DEFAULT_WEIGHTS: ServiceWeights = { passing: 1, warning: 1 };

/** A Consul service instance as registered, through the agent or the catalog. */
export interface ConsulService {
  id: string;
  name: string;
  tags: string[];
  /** "" means the address of where it was registered: the agent's, or its catalog node's. */
  address: string;
  port: number;
  meta: Record<string, string>;
  /** TaggedAddresses as registered ("lan", "wan", ...). Absent in definitions stored before they were kept. */
  taggedAddresses?: Record<string, ServiceAddress>;
  /** Absent: DEFAULT_WEIGHTS. */
  weights?: ServiceWeights;
  /** Consul's EnableTagOverride, kept and shown; Weft has no anti-entropy to apply it to. Absent: false. */
  enableTagOverride?: boolean;
}

export interface AgentServiceDefinition extends ConsulService {
  checks: CheckDefinition[];
}

/** JSON with every object's keys sorted, so two equal values compare equal as text whatever order
 * a client sent their keys in (Meta {"a","b"} then {"b","a"} is no change). Lists keep their order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** A Consul service or check ID. */
export const CONSUL_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** A Consul node name. */
export const CONSUL_NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A field of a Consul JSON body that is wrong; its message names the field. */
export class FieldError extends Error {}
export const fail = (m: string): never => {
  throw new FieldError(m);
};

/** The object with keys folded to lower case without '_', as Consul's decoder matches them. */
/** An address a registration gives: an IP the registry can route to; `hint` ends the advice. */
export function ipAddress(value: string, field: string, hint = ""): string {
  if (isIP(value) === 0)
    fail(`${field} "${value}" must be an IP address (Weft routes to IPs, not hostnames)`);
  const problem = endpointAddressProblem(value);
  if (problem) fail(`${field} "${value}" ${problem}: give the service's own address${hint}`);
  return value;
}

export function fields(value: unknown, field: string): Map<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`${field} must be an object`);
  return new Map(Object.entries(value as object).map(([k, v]) => [k.toLowerCase().replaceAll("_", ""), v]));
}

export function str(value: unknown, field: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") fail(`${field} must be a string`);
  if ((value as string).length > 1024) fail(`${field} is longer than 1024 characters`);
  return value as string;
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration ("10s", "1m30s", "500ms"); a number is nanoseconds, as Go's JSON decoding of time.Duration. */
export function parseDuration(value: unknown, field: string): number {
  if (value === undefined || value === null || value === "") return 0;
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) fail(`${field} must be a non-negative duration`);
    return value / 1e6;
  }
  if (typeof value !== "string") fail(`${field} must be a duration such as "10s"`);
  const text = value as string;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    fail(`${field} "${text}" is not a duration; use e.g. "10s", "500ms" or "1m"`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
}

export function stringRecord(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) fail(`${field} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as object)) {
    if (k === "") fail(`${field} has an empty key`);
    out[k] = str(v, `${field}.${k}`);
  }
  return out;
}

export function stringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(`${field} must be a list of strings`);
  return (value as unknown[]).map((v, i) => str(v, `${field}[${i}]`));
}

function port(value: unknown, field: string): number {
  const v = value ?? 0;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 65535)
    fail(`${field} must be an integer from 0 to 65535, got ${JSON.stringify(v)}`);
  return v as number;
}

/** Consul's rule for the tagged addresses it derives from (lan_ipv4, wan_ipv6, ...): the family named. */
const FAMILY_OF_TAG: Record<string, 4 | 6> = { lan_ipv4: 4, wan_ipv4: 4, lan_ipv6: 6, wan_ipv6: 6 };

/** A service's TaggedAddresses ({"lan": {"Address": "10.0.0.1", "Port": 80}}), field names as Consul decodes them. */
export function taggedAddresses(value: unknown, field: string): Record<string, ServiceAddress> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    fail(`${field} must map names to {"Address": ..., "Port": ...}`);
  const out: Record<string, ServiceAddress> = {};
  for (const [tag, raw] of Object.entries(value as object)) {
    if (tag === "") fail(`${field} has an empty key`);
    const f = fields(raw, `${field}.${tag}`);
    const address = str(f.get("address"), `${field}.${tag}.Address`);
    const family = FAMILY_OF_TAG[tag];
    if (family && isIP(address) !== family)
      fail(`${field}.${tag}.Address "${address}" must be a valid ipv${family} address`);
    out[tag] = { address, port: port(f.get("port"), `${field}.${tag}.Port`) };
  }
  return out;
}

/** Consul's Weights ({"Passing": 10, "Warning": 1}); absent: the defaults, as Consul's. */
export function weights(value: unknown, field: string): ServiceWeights | undefined {
  if (value === undefined || value === null) return undefined;
  const f = fields(value, field);
  const passing = f.get("passing") ?? 0;
  const warning = f.get("warning") ?? 0;
  // Consul's ValidateWeights: Passing at least 1, Warning at least 0, both SRV weights (16 bits).
  if (typeof passing !== "number" || !Number.isInteger(passing) || passing < 1 || passing > 65535)
    fail(`${field}.Passing must be an integer from 1 to 65535, got ${JSON.stringify(passing)}`);
  if (typeof warning !== "number" || !Number.isInteger(warning) || warning < 0 || warning > 65535)
    fail(`${field}.Warning must be an integer from 0 to 65535, got ${JSON.stringify(warning)}`);
  return { passing: passing as number, warning: warning as number };
}

export function bool(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") fail(`${field} must be true or false`);
  return value as boolean;
}

function header(value: unknown, field: string): Record<string, string[]> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) fail(`${field} must map names to lists of values`);
  return Object.fromEntries(
    Object.entries(value as object).map(([k, v]) => [k, stringList(v, `${field}.${k}`)]),
  );
}

function check(
  value: unknown,
  field: string,
  service: { id: string; name: string },
  id: string,
): CheckDefinition {
  const f = fields(value, field);
  const http = str(f.get("http"), `${field}.HTTP`);
  const tcp = str(f.get("tcp"), `${field}.TCP`);
  const ttlMs = parseDuration(f.get("ttl"), `${field}.TTL`);
  const kinds = [http && "http", tcp && "tcp", ttlMs > 0 && "ttl"].filter(Boolean) as Array<
    "http" | "tcp" | "ttl"
  >;
  if (kinds.length !== 1) {
    fail(
      `${field} needs exactly one of HTTP (with Interval), TCP (with Interval) or TTL; Weft runs no scripts or gRPC checks`,
    );
  }
  const kind = kinds[0]!;
  const intervalMs = parseDuration(f.get("interval"), `${field}.Interval`);
  if (kind !== "ttl" && intervalMs < 100)
    fail(`${field}.Interval is required for ${kind.toUpperCase()} checks and must be at least 100ms`);
  if (kind === "http") {
    let url: URL | undefined;
    try {
      url = new URL(http);
    } catch {}
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
      fail(`${field}.HTTP "${http}" must be an http:// or https:// URL`);
  }
  if (kind === "tcp" && !/^.+:\d{1,5}$/.test(tcp)) fail(`${field}.TCP "${tcp}" must be host:port`);
  const status = str(f.get("status"), `${field}.Status`) || "critical";
  if (status !== "passing" && status !== "warning" && status !== "critical") {
    fail(`${field}.Status must be "passing", "warning" or "critical", got "${status}"`);
  }
  return {
    id: str(f.get("checkid") ?? f.get("id"), `${field}.CheckID`) || id,
    name: str(f.get("name"), `${field}.Name`) || `Service '${service.name}' check`,
    serviceId: service.id,
    kind,
    target: kind === "http" ? http : kind === "tcp" ? tcp : "",
    method: str(f.get("method"), `${field}.Method`) || "GET",
    header: header(f.get("header"), `${field}.Header`),
    intervalMs: kind === "ttl" ? 0 : intervalMs,
    timeoutMs: parseDuration(f.get("timeout"), `${field}.Timeout`) || 10_000,
    ttlMs,
    deregisterAfterMs: parseDuration(
      f.get("deregistercriticalserviceafter"),
      `${field}.DeregisterCriticalServiceAfter`,
    ),
    initialStatus: status as CheckStatus,
    notes: str(f.get("notes"), `${field}.Notes`),
  };
}

/** Validates a Consul service definition; the error names the field (Consul's capitalisation). */
export function parseAgentService(value: unknown): Result<AgentServiceDefinition> {
  try {
    const f = fields(value, "the service definition");
    const name = str(f.get("name"), "Name");
    if (!name) fail("Name is required");
    if (!isServiceName(name))
      fail(`Name "${name}" is not a valid service name (letters, digits, '-', '_', '.'; at most 63)`);
    const id = str(f.get("id"), "ID") || name;
    if (!CONSUL_ID.test(id)) fail(`ID "${id}" may hold letters, digits, '.', '_', ':', '-' (at most 128)`);
    const address = str(f.get("address"), "Address");
    if (address !== "") ipAddress(address, "Address", ", or leave Address out for the agent's");
    const rawPort = port(f.get("port"), "Port");
    const service = { id, name };
    const single = f.get("check");
    const many = f.get("checks");
    if (many !== undefined && many !== null && !Array.isArray(many)) fail("Checks must be a list");
    const checkValues = [
      ...(single !== undefined && single !== null ? [["Check", single, `service:${id}`] as const] : []),
      ...((many as unknown[] | undefined) ?? []).map(
        (c, i, all) =>
          [
            `Checks[${i}]`,
            c,
            all.length === 1 && !single ? `service:${id}` : `service:${id}:${i + 1}`,
          ] as const,
      ),
    ];
    const checks = checkValues.map(([field, c, checkId]) => check(c, field, service, checkId));
    const ids = new Set<string>();
    for (const c of checks) {
      if (ids.has(c.id)) fail(`check ID "${c.id}" is used twice`);
      ids.add(c.id);
    }
    return {
      ok: true,
      value: {
        id,
        name,
        tags: stringList(f.get("tags"), "Tags"),
        address,
        port: rawPort,
        meta: stringRecord(f.get("meta"), "Meta"),
        taggedAddresses: taggedAddresses(f.get("taggedaddresses"), "TaggedAddresses"),
        weights: weights(f.get("weights"), "Weights"),
        enableTagOverride: bool(f.get("enabletagoverride"), "EnableTagOverride"),
        checks,
      },
    };
  } catch (err) {
    if (err instanceof FieldError) return { ok: false, error: err.message };
    throw err;
  }
}
