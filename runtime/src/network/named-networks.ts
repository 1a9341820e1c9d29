// Named networks, as `docker network create` and docker-compose make them: names (with labels) for
// groups of containers on weft's one bridge. Every container keeps its address on the bridge and
// reaches the others through the mesh whatever its networks; a named network is how Docker tools
// find and group what they made (compose's "PROJECT_default"), not a separate subnet or a firewall.
// The list is one JSON file in the state dir, written whole and renamed into place.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { NetworkError } from "./errors";

/** The network every container is on unless it names others (Docker's "bridge"). */
export const DEFAULT_NETWORK = "weft";
/** Names that mean the default network where a container names its network (Docker's NetworkMode). */
export const DEFAULT_NETWORK_ALIASES: readonly string[] = ["", "default", "bridge", DEFAULT_NETWORK];
/** Docker's network name rule. */
const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const RESERVED = new Set(["default", "bridge", "host", "none", DEFAULT_NETWORK]);

/** The networks a container is on, by name, with its aliases on each. */
export type NetworkAliases = Record<string, { aliases: string[] }>;

/** A container's networks: those it names, else the default one. */
export function networksOf(state: { networks?: NetworkAliases }): NetworkAliases {
  return state.networks && Object.keys(state.networks).length > 0
    ? state.networks
    : { [DEFAULT_NETWORK]: { aliases: [] } };
}

export interface NamedNetwork {
  /** 64 hex digits, as Docker's. */
  id: string;
  name: string;
  /** ISO time. */
  created: string;
  labels: Record<string, string>;
  /** Driver options as given (kept and shown; weft's bridge ignores them). */
  options: Record<string, string>;
  attachable: boolean;
}

export interface NetworkCreate {
  name: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  attachable?: boolean;
}

/** A failure with the HTTP status the APIs answer with. */
function networkError(code: string, status: number, message: string): NetworkError {
  return Object.assign(new NetworkError(code, message), { status });
}

export class NetworkStore {
  private networks: NamedNetwork[];

  constructor(private readonly file: string) {
    this.networks = this.read();
  }

  list(): NamedNetwork[] {
    return [...this.networks];
  }

  /** By name, by id, or by an id prefix that matches one network; NETWORK_NOT_FOUND (404) otherwise. */
  get(ref: string): NamedNetwork {
    const found = this.find(ref);
    if (!found) {
      throw networkError(
        "NETWORK_NOT_FOUND",
        404,
        `network ${ref} not found; list them with 'weft network ls' or create it with 'weft network create ${ref}'`,
      );
    }
    return found;
  }

  find(ref: string): NamedNetwork | undefined {
    const byName = this.networks.find((n) => n.name === ref || n.id === ref);
    if (byName || !/^[0-9a-f]+$/.test(ref)) return byName;
    const byPrefix = this.networks.filter((n) => n.id.startsWith(ref));
    if (byPrefix.length > 1) {
      throw networkError("INVALID_NETWORK", 400, `network id prefix ${ref} is ambiguous: give more digits`);
    }
    return byPrefix[0];
  }

  create(c: NetworkCreate, now: Date): NamedNetwork {
    checkNetworkName(c.name);
    if (this.networks.some((n) => n.name === c.name)) {
      throw networkError(
        "NETWORK_EXISTS",
        409,
        `network with name ${c.name} already exists; remove it with 'weft network rm ${c.name}' or choose another name`,
      );
    }
    const network: NamedNetwork = {
      id: randomBytes(32).toString("hex"),
      name: c.name,
      created: now.toISOString(),
      labels: c.labels ?? {},
      options: c.options ?? {},
      attachable: c.attachable ?? false,
    };
    this.write([...this.networks, network]);
    return network;
  }

  /** `usedBy`: the containers (running or not) on the network; refused while there are any. */
  remove(ref: string, usedBy: (network: NamedNetwork) => string[]): NamedNetwork {
    const network = this.get(ref);
    const users = usedBy(network);
    if (users.length > 0) {
      throw networkError(
        "NETWORK_IN_USE",
        409,
        `network ${network.name} has active endpoints (${users.join(", ")}); remove those containers or disconnect them first`,
      );
    }
    this.write(this.networks.filter((n) => n.id !== network.id));
    return network;
  }

  private read(): NamedNetwork[] {
    if (!existsSync(this.file)) return [];
    const parsed = JSON.parse(readFileSync(this.file, "utf8")) as unknown;
    if (!Array.isArray(parsed)) throw new NetworkError("NETWORK_STATE", `${this.file} is not a JSON array`);
    return parsed as NamedNetwork[];
  }

  private write(networks: NamedNetwork[]): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o711 });
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(networks, null, 2)}\n`);
    renameSync(tmp, this.file);
    this.networks = networks;
  }
}

export function checkNetworkName(name: string): void {
  if (RESERVED.has(name)) {
    throw networkError(
      "INVALID_NETWORK",
      403,
      `${name} is a pre-defined network and cannot be created; choose another name`,
    );
  }
  if (!NETWORK_NAME_RE.test(name)) {
    throw networkError(
      "INVALID_NETWORK",
      400,
      `network name "${name}" is invalid: use letters, digits, '_', '.' or '-', starting with a letter or digit`,
    );
  }
}
