// The config push, modelled on xDS state-of-the-world: per stream and per type a subscription, a
// version and a nonce; ACKs and NACKs are matched to the nonce they answer; registry changes are
// merged for `debounceMs` and then pushed to every stream whose resources really changed.
import type { ServiceRegistry } from "../registry/types";
import { type ProxyStatus, ProxyStatusBoard } from "./proxy-status";
import { buildSnapshot, type Snapshot } from "./snapshot";
import { isResourceType, type ParsedDiscoveryRequest, type PushResource, type ResourceType } from "./wire";

export interface DiscoveryResponseOut {
  typeUrl: ResourceType;
  versionInfo: string;
  nonce: string;
  resources: PushResource[];
}

export interface DiscoveryServerOptions {
  /** How long registry changes are merged before a push. Default 50 (the contract says ≤ 100 ms). */
  debounceMs?: number;
  /** Where NACKs and protocol problems are reported. Default: console.error. */
  log?: (message: string) => void;
}

interface Subscription {
  /** undefined: every resource of the type. */
  names?: Set<string>;
  /** name@version of what was last sent, to skip pushes that change nothing for this stream. */
  sentKey?: string;
  sentNonce: string;
}

/** One sidecar's stream. The transport calls `handle` per request and `close` when the stream ends. */
export interface DiscoveryConnection {
  handle(request: ParsedDiscoveryRequest): void;
  close(): void;
}

export class DiscoveryServer {
  readonly proxies = new ProxyStatusBoard();
  private readonly streams = new Map<number, StreamState>();
  private readonly debounceMs: number;
  private readonly log: (message: string) => void;
  private readonly unsubscribe: () => void;
  private nextStream = 1;
  private nonceCounter = 0;
  private timer?: NodeJS.Timeout;
  private cached?: Snapshot;

  constructor(
    private readonly registry: ServiceRegistry,
    options: DiscoveryServerOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 50;
    this.log = options.log ?? ((m) => console.error(m));
    this.unsubscribe = registry.onChange(() => this.schedulePush());
  }

  connect(send: (response: DiscoveryResponseOut) => void): DiscoveryConnection {
    const id = this.nextStream++;
    const status = this.proxies.open(id);
    const state: StreamState = { id, status, send, subs: new Map() };
    this.streams.set(id, state);
    return {
      handle: (request) => this.handle(state, request),
      close: () => {
        this.streams.delete(id);
        this.proxies.close(id);
      },
    };
  }

  /** Stops pushing; open streams are ended by the transport. */
  close(): void {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.streams.clear();
  }

  /** Proxies as GET /api/v1/proxies shows them. */
  listProxies(): ProxyStatus[] {
    return this.proxies.list();
  }

  private handle(state: StreamState, request: ParsedDiscoveryRequest): void {
    if (request.node?.id) {
      Object.assign(state.status, {
        nodeId: request.node.id,
        workload: request.node.workload,
        service: request.node.service,
        address: request.node.address,
      });
    }
    const typeUrl = request.typeUrl;
    if (!isResourceType(typeUrl)) {
      this.log(`config stream ${label(state)}: ignoring request for unknown type "${typeUrl}"`);
      return;
    }
    const names = request.resourceNames.length > 0 ? new Set(request.resourceNames) : undefined;
    const sub = state.subs.get(typeUrl);
    if (!sub || request.responseNonce === "") {
      // A new subscription (or a sidecar asking again from scratch): always answer.
      state.subs.set(typeUrl, { names, sentNonce: "" });
      this.push(state, typeUrl, this.snapshot(), true);
      return;
    }
    // A request answering an older response is stale: a newer one is already on its way (xDS).
    if (request.responseNonce !== sub.sentNonce) return;
    const typeStatus = this.proxies.type(state.id, typeUrl);
    if (request.error) {
      typeStatus.nacks++;
      typeStatus.lastError = {
        message: request.error.message,
        nonce: request.responseNonce,
        at: new Date().toISOString(),
      };
      this.log(
        `config stream ${label(state)}: NACK of ${typeUrl} nonce ${request.responseNonce}: ${request.error.message}; it keeps version "${request.versionInfo}"`,
      );
    } else {
      typeStatus.acks++;
      typeStatus.ackedVersion = request.versionInfo;
      typeStatus.lastError = undefined;
    }
    if (!sameNames(sub.names, names)) {
      sub.names = names;
      this.push(state, typeUrl, this.snapshot(), false);
    }
  }

  private schedulePush(): void {
    this.cached = undefined;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const snapshot = this.snapshot();
      for (const state of this.streams.values()) {
        for (const typeUrl of state.subs.keys()) this.push(state, typeUrl, snapshot, false);
      }
    }, this.debounceMs);
  }

  private snapshot(): Snapshot {
    if (!this.cached || this.cached.index !== this.registry.index())
      this.cached = buildSnapshot(this.registry);
    return this.cached;
  }

  private push(state: StreamState, typeUrl: ResourceType, snapshot: Snapshot, force: boolean): void {
    const sub = state.subs.get(typeUrl);
    if (!sub) return;
    const names = sub.names;
    const resources = snapshot.resources[typeUrl].filter((r) => !names || names.has(r.name));
    const key = resources.map((r) => `${r.name}@${r.version}`).join(",");
    if (!force && key === sub.sentKey) return;
    const nonce = String(++this.nonceCounter);
    const versionInfo = String(snapshot.index);
    sub.sentKey = key;
    sub.sentNonce = nonce;
    const typeStatus = this.proxies.type(state.id, typeUrl);
    typeStatus.sentVersion = versionInfo;
    typeStatus.lastNonce = nonce;
    try {
      state.send({ typeUrl, versionInfo, nonce, resources });
    } catch (err) {
      // A stream that broke mid-write is cleaned up by its transport; the others still get pushed.
      this.log(`config stream ${label(state)}: push failed: ${(err as Error).message}`);
    }
  }
}

interface StreamState {
  id: number;
  status: ProxyStatus;
  send: (response: DiscoveryResponseOut) => void;
  subs: Map<ResourceType, Subscription>;
}

function label(state: StreamState): string {
  return state.status.nodeId ? `"${state.status.nodeId}"` : `#${state.id}`;
}

function sameNames(a: Set<string> | undefined, b: Set<string> | undefined): boolean {
  if (!a || !b) return a === b;
  return a.size === b.size && [...a].every((n) => b.has(n));
}
