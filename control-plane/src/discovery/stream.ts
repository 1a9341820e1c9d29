// One sidecar's stream: per type what it subscribed to, what it was sent (name → version), what is
// waiting to go out, and the ACK/NACK bookkeeping. `nextResponse` turns the pending work of one type
// into at most one response, merged: however many changes piled up, a stream gets one update.
import type { ResourceCache } from "./resource-cache";
import {
  type DiscoveryResponseOut,
  type PushResource,
  type ResourceType,
  TYPE_ENDPOINTS,
  TYPE_ROUTES,
} from "./wire";

export interface TypeSubscription {
  /** Every resource of the type (no names asked for), or only `names`. */
  wildcard: boolean;
  names: Set<string>;
  /** What the stream was last sent, name → resource version. */
  sent: Map<string, string>;
  /** The next response is a whole state of the world (new subscription, reconnect, after a NACK). */
  full: boolean;
  /** Names that may have changed since they were sent: diffed on the next push. */
  dirty: Set<string>;
  /** Routes held back because the stream has not been sent the endpoints they point to yet. */
  withheld: Set<string>;
  sentVersion: string;
  lastNonce: string;
  sentAt: number;
  ackedVersion: string;
  ackedNonce: string;
  ackedAt: number;
  acks: number;
  nacks: number;
  /** The last rejection, cleared by a later ACK. */
  lastError?: { message: string; nonce: string; version: string; at: string };
  /** A NACK asks for a full resend with the next change (without pushing again right away). */
  resyncOnNext: boolean;
}

export interface NodeInfo {
  id: string;
  workload: string;
  service: string;
  address: string;
}

export class StreamState {
  readonly subs = new Map<ResourceType, TypeSubscription>();
  readonly connectedAt = new Date().toISOString();
  node: NodeInfo = { id: "", workload: "", service: "", address: "" };
  /** The transport's write buffer is full: nothing more is written until it drains. */
  blocked = false;

  constructor(
    readonly id: number,
    /** Writes one response; false when the transport buffer is full (backpressure). */
    readonly send: (response: DiscoveryResponseOut) => boolean,
  ) {}

  get label(): string {
    return this.node.id ? `"${this.node.id}"` : `#${this.id}`;
  }

  subscribe(type: ResourceType, names: string[]): TypeSubscription {
    const sub: TypeSubscription = {
      wildcard: names.length === 0,
      names: new Set(names),
      sent: new Map(),
      full: true,
      dirty: new Set(),
      withheld: new Set(),
      sentVersion: "",
      lastNonce: "",
      sentAt: 0,
      ackedVersion: "",
      ackedNonce: "",
      ackedAt: 0,
      acks: 0,
      nacks: 0,
      resyncOnNext: false,
    };
    this.subs.set(type, sub);
    return sub;
  }

  /** True when something is waiting to be sent on any type. */
  get pending(): boolean {
    for (const sub of this.subs.values()) if (sub.full || sub.dirty.size > 0) return true;
    return false;
  }

  /**
   * The response that brings `type` up to date, or undefined when nothing changed for this stream.
   * Routes whose endpoints the stream has not been sent stay withheld (make-before-break).
   */
  nextResponse(
    type: ResourceType,
    cache: ResourceCache,
    nonce: () => string,
  ): DiscoveryResponseOut | undefined {
    const sub = this.subs.get(type);
    if (!sub || (!sub.full && sub.dirty.size === 0)) return undefined;
    const canSend = (name: string) => type !== TYPE_ROUTES || this.hasEndpoints(name);
    let response: DiscoveryResponseOut | undefined;
    if (sub.full) {
      const all = sub.wildcard
        ? cache.list(type)
        : [...sub.names]
            .sort()
            .map((n) => cache.get(type, n))
            .filter((r): r is PushResource => r !== undefined);
      const resources: PushResource[] = [];
      for (const r of all) {
        if (canSend(r.name)) resources.push(r);
        else sub.withheld.add(r.name);
      }
      sub.sent = new Map(resources.map((r) => [r.name, r.version]));
      response = this.response(type, cache, nonce, resources, [], false);
    } else {
      const resources: PushResource[] = [];
      const removed: string[] = [];
      for (const name of sub.dirty) {
        const r = sub.wildcard || sub.names.has(name) ? cache.get(type, name) : undefined;
        if (r && !canSend(name)) {
          sub.withheld.add(name);
          continue;
        }
        if (r && sub.sent.get(name) !== r.version) {
          resources.push(r);
          sub.sent.set(name, r.version);
        } else if (!r && sub.sent.has(name)) {
          removed.push(name);
          sub.sent.delete(name);
        }
      }
      if (resources.length > 0 || removed.length > 0) {
        response = this.response(type, cache, nonce, resources, removed, true);
      }
    }
    sub.full = false;
    sub.dirty.clear();
    if (type === TYPE_ENDPOINTS && response) this.releaseRoutes(response);
    return response;
  }

  private response(
    type: ResourceType,
    cache: ResourceCache,
    nonce: () => string,
    resources: PushResource[],
    removed: string[],
    incremental: boolean,
  ): DiscoveryResponseOut {
    const sub = this.subs.get(type)!;
    const out: DiscoveryResponseOut = {
      typeUrl: type,
      versionInfo: cache.version(type),
      nonce: nonce(),
      resources,
      removed,
      incremental,
    };
    sub.sentVersion = out.versionInfo;
    sub.lastNonce = out.nonce;
    sub.sentAt = Date.now();
    return out;
  }

  private hasEndpoints(service: string): boolean {
    return this.subs.get(TYPE_ENDPOINTS)?.sent.has(service) === true;
  }

  /** Endpoints just went out: routes that waited for them may follow in the same cycle. */
  private releaseRoutes(sentEndpoints: DiscoveryResponseOut): void {
    const routes = this.subs.get(TYPE_ROUTES);
    if (!routes || routes.withheld.size === 0) return;
    for (const r of sentEndpoints.resources) {
      if (routes.withheld.delete(r.name)) routes.dirty.add(r.name);
    }
  }
}
