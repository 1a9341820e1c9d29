// The config push, modelled on xDS (Istio's pilot/pkg/xds): per stream and per type a
// subscription (wildcard, or by service name), a version and a nonce; ACKs and NACKs are matched to
// the nonce they answer. Registry and config changes are debounced, regenerated once into the
// resource cache, and each changed resource goes only to the streams subscribed to it, as an
// incremental response. A stream whose transport buffer is full is skipped; its work stays merged
// in its pending set and is written when it drains, so it never delays the others.
import type { MtlsMode } from "../../../proto/mtls-mode";
import type { ServiceRegistry } from "../registry/types";
import type { ConfigSource } from "./config-source";
import { Debouncer } from "./debouncer";
import { KIND_TYPE, PolicyGenerator, RoutesGenerator, TelemetryGenerator } from "./gen-config";
import { EndpointsGenerator } from "./gen-endpoints";
import { ServiceGenerator } from "./gen-services";
import type { Generator } from "./generator";
import { type ProxyStatus, proxyStatus } from "./proxy-status";
import { type ChangedNames, ResourceCache } from "./resource-cache";
import { StreamState } from "./stream";
import {
  type DiscoveryResponseOut,
  isResourceType,
  type ParsedDiscoveryRequest,
  RESOURCE_TYPES,
  type ResourceType,
} from "./wire";

export interface DiscoveryServerOptions {
  /** Quiet time that ends a burst of changes. Default 50 ms. */
  debounceMs?: number;
  /** Longest a change waits while a burst goes on. Default 500 ms. */
  maxDebounceMs?: number;
  /** Routes, policies and telemetry. Default: none (only registry types are pushed). */
  config?: ConfigSource;
  /** Where NACKs and protocol problems are reported. Default: console.error. */
  log?: (message: string) => void;
  /** Pushed as the mtls_mode of services whose config does not say. Default "PERMISSIVE". */
  mtlsMode?: MtlsMode;
}

/** One sidecar's stream, as the transport sees it. */
export interface DiscoveryConnection {
  handle(request: ParsedDiscoveryRequest): void;
  /** The transport's write buffer drained: pending updates may go out. */
  drained(): void;
  close(): void;
}

export class DiscoveryServer {
  private readonly streams = new Map<number, StreamState>();
  /** type → name → streams subscribed by name; and type → wildcard streams. */
  private readonly byName = new Map<ResourceType, Map<string, Set<StreamState>>>();
  private readonly wildcard = new Map<ResourceType, Set<StreamState>>();
  private readonly cache: ResourceCache;
  private readonly debouncer: Debouncer;
  private readonly log: (message: string) => void;
  private readonly unsubscribe: Array<() => void> = [];
  private pendingNames = new Set<string>();
  private pendingTypes = new Set<ResourceType>();
  private nextStream = 1;
  private nonceCounter = 0;
  private readonly nonce = () => (++this.nonceCounter).toString(36);
  /** Pushes done (cache refreshes that changed something); for tests and the bench. */
  pushes = 0;

  constructor(registry: ServiceRegistry, options: DiscoveryServerOptions = {}) {
    this.log = options.log ?? ((m) => console.error(m));
    const generators: Generator[] = [
      new ServiceGenerator(registry, options.mtlsMode ?? "PERMISSIVE"),
      new EndpointsGenerator(registry),
    ];
    if (options.config) {
      const config = options.config;
      generators.push(
        new RoutesGenerator(config),
        new PolicyGenerator(config),
        new TelemetryGenerator(config),
      );
      this.unsubscribe.push(
        config.onChange((change) => {
          const type = KIND_TYPE[change.kind];
          if (type) this.pendingTypes.add(type);
          this.debouncer.poke();
        }),
      );
    }
    for (const type of RESOURCE_TYPES) {
      this.byName.set(type, new Map());
      this.wildcard.set(type, new Set());
    }
    this.cache = new ResourceCache(generators);
    this.debouncer = new Debouncer(options.debounceMs ?? 50, options.maxDebounceMs ?? 500, () => this.push());
    this.unsubscribe.push(
      registry.onChange((change) => {
        for (const name of change.services) this.pendingNames.add(name);
        this.debouncer.poke();
      }),
    );
  }

  connect(send: (response: DiscoveryResponseOut) => boolean): DiscoveryConnection {
    const state = new StreamState(this.nextStream++, send);
    this.streams.set(state.id, state);
    return {
      handle: (request) => this.handle(state, request),
      drained: () => {
        state.blocked = false;
        this.flush(state);
      },
      close: () => {
        this.streams.delete(state.id);
        for (const type of state.subs.keys()) this.unindex(state, type);
      },
    };
  }

  /** Stops pushing; open streams are ended by the transport. */
  close(): void {
    for (const u of this.unsubscribe) u();
    this.debouncer.stop();
    this.streams.clear();
  }

  /** Connected sidecars as GET /api/v1/proxies and `weft proxy-status` show them. */
  listProxies(now = Date.now()): ProxyStatus[] {
    return [...this.streams.values()]
      .map((s) => proxyStatus(s, now))
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : a.stream - b.stream));
  }

  private handle(state: StreamState, request: ParsedDiscoveryRequest): void {
    if (request.node?.id) state.node = { ...request.node };
    const type = request.typeUrl;
    if (!isResourceType(type)) {
      this.log(`config stream ${state.label}: ignoring request for unknown type "${type}"`);
      return;
    }
    let sub = state.subs.get(type);
    if (!sub || request.responseNonce === "") {
      // A new subscription, or a sidecar (re)starting one: a whole, consistent snapshot right away.
      // Changes still in the debounce window are pushed first, so the snapshot is current (and the
      // other streams get those changes now rather than a little later).
      if (this.pendingNames.size > 0 || this.pendingTypes.size > 0) {
        this.debouncer.stop();
        this.push();
      }
      if (sub) this.unindex(state, type);
      const previous = sub;
      sub = state.subscribe(type, request.resourceNames);
      if (previous) Object.assign(sub, { acks: previous.acks, nacks: previous.nacks });
      this.index(state, type);
      this.flush(state);
      return;
    }
    if (request.responseNonce === sub.lastNonce) {
      if (request.error) {
        sub.nacks++;
        sub.lastError = {
          message: request.error.message,
          nonce: request.responseNonce,
          version: sub.sentVersion,
          at: new Date().toISOString(),
        };
        sub.resyncOnNext = true;
        this.log(
          `config stream ${state.label}: NACK of ${type} version ${sub.sentVersion} (nonce ${request.responseNonce}): ${request.error.message}; it keeps version "${request.versionInfo}"`,
        );
      } else {
        sub.acks++;
        sub.ackedVersion = request.versionInfo;
        sub.ackedNonce = request.responseNonce;
        sub.ackedAt = Date.now();
        sub.lastError = undefined;
      }
    }
    // An older nonce only means a newer response is on its way; its names still count (as in xDS,
    // every request carries the whole set), so a subscription change is never lost to a race.
    this.resubscribe(state, type, request.resourceNames);
  }

  /** A later request for a type replaces its set of names; added names are sent, dropped ones removed. */
  private resubscribe(state: StreamState, type: ResourceType, names: string[]): void {
    const sub = state.subs.get(type)!;
    const wildcard = names.length === 0;
    if (wildcard && sub.wildcard) return;
    const next = new Set(names);
    if (!wildcard && !sub.wildcard && next.size === sub.names.size && names.every((n) => sub.names.has(n)))
      return;
    this.unindex(state, type);
    if (wildcard !== sub.wildcard) sub.full = true;
    for (const n of sub.names) if (!next.has(n)) sub.dirty.add(n);
    for (const n of next) if (!sub.names.has(n)) sub.dirty.add(n);
    sub.wildcard = wildcard;
    sub.names = next;
    this.index(state, type);
    this.flush(state);
  }

  private index(state: StreamState, type: ResourceType): void {
    const sub = state.subs.get(type)!;
    if (sub.wildcard) {
      this.wildcard.get(type)!.add(state);
      return;
    }
    const byName = this.byName.get(type)!;
    for (const name of sub.names) {
      const set = byName.get(name) ?? new Set<StreamState>();
      byName.set(name, set);
      set.add(state);
    }
  }

  private unindex(state: StreamState, type: ResourceType): void {
    const sub = state.subs.get(type);
    if (!sub) return;
    this.wildcard.get(type)!.delete(state);
    const byName = this.byName.get(type)!;
    for (const name of sub.names) {
      const set = byName.get(name);
      set?.delete(state);
      if (set?.size === 0) byName.delete(name);
    }
  }

  /** The debounced push: regenerate once, then hand each changed name to its subscribers. */
  private push(): void {
    const names = this.pendingNames;
    const types = this.pendingTypes;
    this.pendingNames = new Set();
    this.pendingTypes = new Set();
    let changed: ChangedNames;
    try {
      changed = this.cache.refresh({ all: types, names });
    } catch (err) {
      // A failing generator must not stop the loop: report it and try again with the next change.
      this.log(`config push: cannot build resources: ${(err as Error).message}`);
      return;
    }
    if (changed.size === 0) return;
    this.pushes++;
    const touched = new Set<StreamState>();
    for (const [type, list] of changed) {
      const byName = this.byName.get(type)!;
      for (const stream of this.wildcard.get(type)!) {
        const sub = stream.subs.get(type)!;
        for (const name of list) sub.dirty.add(name);
        touched.add(stream);
      }
      for (const name of list) {
        for (const stream of byName.get(name) ?? []) {
          stream.subs.get(type)!.dirty.add(name);
          touched.add(stream);
        }
      }
    }
    for (const stream of touched) this.flush(stream);
  }

  /** Writes what is pending for one stream, types in make-before-break order, unless it is blocked. */
  private flush(state: StreamState): void {
    if (state.blocked || !this.streams.has(state.id)) return;
    for (const type of RESOURCE_TYPES) {
      const sub = state.subs.get(type);
      if (sub?.resyncOnNext && sub.dirty.size > 0) {
        sub.full = true;
        sub.resyncOnNext = false;
      }
      const response = state.nextResponse(type, this.cache, this.nonce);
      if (!response) continue;
      let writable: boolean;
      try {
        writable = state.send(response);
      } catch (err) {
        // A stream that broke mid-write is cleaned up by its transport; the others still get pushed.
        this.log(`config stream ${state.label}: push failed: ${(err as Error).message}`);
        return;
      }
      if (!writable) {
        state.blocked = true;
        return;
      }
    }
  }
}
