// Named networks (docker network create, connect, disconnect, rm): which containers a network groups,
// kept in each container's state. They share the one bridge (network/named-networks.ts says why),
// so joining or leaving one changes no kernel object: it is a record, and it is saved at once.
import { join } from "node:path";
import { RuntimeError } from "../errors";
import {
  DEFAULT_NETWORK_ALIASES,
  type NamedNetwork,
  type NetworkCreate,
  NetworkStore,
} from "../network/named-networks";
import { EnginePausing } from "./pause";
import type { ContainerNetworks, ContainerState } from "./types";

export interface NetworkInfo extends NamedNetwork {
  /** The containers on it, running or not. */
  containers: ContainerState[];
}

export class EngineNetworks extends EnginePausing {
  private namedNetworks: NetworkStore | undefined;

  /** Read on first use, so a daemon that never meets a network reads no file; a file that could
   * not be read is read again at the next use (it is never overwritten while unreadable). */
  private get networkStore(): NetworkStore {
    if (!this.namedNetworks) {
      const file = join(this.parts.stateDir, "networks.json");
      try {
        this.namedNetworks = new NetworkStore(file);
      } catch (err) {
        throw new RuntimeError(
          "INTERNAL",
          `the named networks' file ${file} is unreadable (${(err as Error).message}); mend it or move it aside (nothing was changed)`,
        );
      }
    }
    return this.namedNetworks;
  }

  listNetworks(): NetworkInfo[] {
    return this.networkStore.list().map((n) => ({ ...n, containers: this.onNetwork(n.name) }));
  }

  inspectNetwork(ref: string): NetworkInfo {
    const n = this.networkStore.get(ref);
    return { ...n, containers: this.onNetwork(n.name) };
  }

  createNetwork(c: NetworkCreate): NamedNetwork {
    const n = this.networkStore.create(c, this.clock.now());
    this.eventLog.emit("network", "create", n.id, { name: n.name, type: "bridge" });
    this.logger.info(`created network ${n.name} (${n.id.slice(0, 12)})`);
    return n;
  }

  /** Refused while any container, even a stopped one, is on it (as Docker does). */
  removeNetwork(ref: string): void {
    const n = this.networkStore.remove(ref, (net) => this.onNetwork(net.name).map((c) => c.name));
    this.eventLog.emit("network", "destroy", n.id, { name: n.name, type: "bridge" });
    this.logger.info(`removed network ${n.name}`);
  }

  /** Puts a container (running or not) on a named network, with names it answers to there. */
  async connect(ref: string, network: string, aliases: string[]): Promise<ContainerState> {
    const state = this.find(ref);
    const n = this.networkStore.get(network);
    return this.locked(state.id, async () => {
      const current = state.networks ?? {};
      if (current[n.name]) {
        throw new RuntimeError(
          "INVALID_ARGUMENT",
          `container ${state.name} is already on network ${n.name}; disconnect it first to change its aliases`,
        );
      }
      state.networks = { ...current, [n.name]: { aliases } };
      this.store.save(state);
      this.eventLog.emit("network", "connect", n.id, { container: state.id, name: n.name, type: "bridge" });
      return state;
    });
  }

  /** Takes a container off a named network; off its last one, it is on the default network again. */
  async disconnect(ref: string, network: string): Promise<ContainerState> {
    const state = this.find(ref);
    const n = this.networkStore.get(network);
    return this.locked(state.id, async () => {
      if (!state.networks?.[n.name]) {
        throw new RuntimeError("INVALID_ARGUMENT", `container ${state.name} is not on network ${n.name}`);
      }
      const { [n.name]: _, ...rest } = state.networks;
      state.networks = Object.keys(rest).length > 0 ? rest : undefined;
      this.store.save(state);
      this.eventLog.emit("network", "disconnect", n.id, {
        container: state.id,
        name: n.name,
        type: "bridge",
      });
      return state;
    });
  }

  /**
   * The networks a new container asks for, by their names (a request may name one by id), or
   * undefined for the default network; NETWORK_NOT_FOUND for one that does not exist.
   */
  protected resolveNetworks(wanted: ContainerNetworks | undefined): ContainerNetworks | undefined {
    const named = Object.entries(wanted ?? {}).filter(([name]) => !DEFAULT_NETWORK_ALIASES.includes(name));
    if (named.length === 0) return undefined;
    return Object.fromEntries(named.map(([ref, v]) => [this.networkStore.get(ref).name, v]));
  }

  private onNetwork(name: string): ContainerState[] {
    return [...this.containers.values()].filter((c) => c.networks?.[name] !== undefined);
  }
}
