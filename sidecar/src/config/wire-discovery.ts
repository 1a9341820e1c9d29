// The ConfigDiscovery stream client: the only sidecar module that touches the gRPC contract.
// One stream carries every type. Service and Telemetry are subscribed whole at start; the
// endpoints, routes and policy of a service only once the sidecar needs it (`want`: its own
// service, the first connection to a VIP, a DNS answer), as Linkerd's destination lookups do.
// Every response is validated whole, then applied and ACKed (version + nonce), or NACKed (nonce,
// last good version, reason) and dropped, so the sidecar keeps routing with its last good config.
// Incremental responses are merged in (changed resources replaced, removed ones dropped). When the
// stream breaks it reconnects with exponential backoff and keeps serving meanwhile; on reconnect it
// says which versions it holds and asks again for everything it wants.
import {
  type DiscoveryRequest,
  type DiscoveryResponse__Output,
  decodeMessage,
  encodeMessage,
  grpcTarget,
  SCHEMA,
  TYPE_ENDPOINTS,
  TYPE_POLICY,
  TYPE_ROUTES,
  TYPE_SERVICE,
  TYPE_TELEMETRY,
  type WireResourceOutput,
} from "../../../proto/index";
import { SidecarError } from "../errors";
import { GrpcChannel, type GrpcStatusError, type StreamingCall } from "../grpc/index";
import type { ConfigStore, ConfigVersions } from "./store";
import type { ConfigUpdate, EndpointConfig, ServiceConfig } from "./types";
import { parseEndpoint, parseService } from "./validate";
import { parseServicePolicy, parseServiceRoutes, parseTelemetry } from "./validate-config";

export interface NodeIdentity {
  id: string;
  workload: string;
  service: string;
  address: string;
  labels: Record<string, string>;
}

export interface DiscoveryClientOptions {
  /** gRPC target: "unix:///run/weft/cp.sock" or "host:port". */
  target: string;
  node: NodeIdentity;
  store: ConfigStore;
  /** First reconnect delay. Default 100 ms. */
  initialBackoffMs?: number;
  /** Longest reconnect delay. Default 5000 ms. */
  maxBackoffMs?: number;
  /** Where problems are reported. Default stderr. */
  log?: (message: string) => void;
}

const INVALID_ARGUMENT = 3;
const STREAM_PATH = "/weft.v1.ConfigDiscovery/StreamConfig";
type Call = StreamingCall;

/** Per type: where its version is kept, and how a response becomes a store update. */
const TYPES: Record<
  string,
  { version: keyof ConfigVersions; apply(store: ConfigStore, r: DiscoveryResponse__Output): void }
> = {
  [TYPE_SERVICE]: {
    version: "services",
    apply: (s, r) => s.applyServices(toUpdate(r, serviceOf), r.version_info),
  },
  [TYPE_ENDPOINTS]: {
    version: "endpoints",
    apply: (s, r) => s.applyEndpoints(toUpdate(r, endpointsOf), r.version_info),
  },
  [TYPE_POLICY]: {
    version: "policies",
    apply: (s, r) => s.applyPolicies(toUpdate(r, body("policy", parseServicePolicy)), r.version_info),
  },
  [TYPE_ROUTES]: {
    version: "routes",
    apply: (s, r) => s.applyRoutes(toUpdate(r, body("routes", parseServiceRoutes)), r.version_info),
  },
  [TYPE_TELEMETRY]: {
    version: "telemetry",
    apply: (s, r) => s.applyTelemetry(toUpdate(r, body("telemetry", parseTelemetry)), r.version_info),
  },
};

/** Subscribed by service name, endpoints first (the control plane sends them before routes anyway). */
const NAMED_TYPES = [TYPE_ENDPOINTS, TYPE_POLICY, TYPE_ROUTES];
const WILDCARD_TYPES = [TYPE_SERVICE, TYPE_TELEMETRY];

export class DiscoveryClient {
  private channel: GrpcChannel | undefined;
  private call: Call | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly log: (message: string) => void;
  /** Services whose endpoints, routes and policy this sidecar asked for. */
  private readonly wanted = new Set<string>();
  /** The last nonce received per type on the current stream (what the next request answers). */
  private readonly nonces = new Map<string, string>();
  private resubscribeQueued = false;
  /** How many streams have been opened (1 + reconnects); for tests and /config_dump. */
  connects = 0;

  constructor(private readonly options: DiscoveryClientOptions) {
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.log = options.log ?? ((m) => console.error(`weft sidecar: ${m}`));
    if (options.node.service) this.wanted.add(options.node.service);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.teardown();
  }

  /**
   * Subscribes to the service's endpoints, routes and policy if not done yet. Names wanted in the
   * same tick go out in one request per type.
   */
  want(service: string): void {
    if (this.wanted.has(service)) return;
    this.wanted.add(service);
    if (this.resubscribeQueued) return;
    this.resubscribeQueued = true;
    queueMicrotask(() => {
      this.resubscribeQueued = false;
      const call = this.call;
      if (!call) return; // connect() sends everything wanted
      for (const type of NAMED_TYPES) this.request(call, type, this.nonces.get(type) ?? "");
    });
  }

  /** The services subscribed to by name. */
  wantedServices(): string[] {
    return [...this.wanted].sort();
  }

  private connect(): void {
    this.teardown();
    if (this.stopped) return;
    // A new session per stream: a control plane that restarted is reached on a fresh connection.
    const channel = new GrpcChannel(grpcTarget(this.options.target));
    this.channel = channel;
    const call = channel.stream(STREAM_PATH);
    this.call = call;
    this.nonces.clear();
    this.connects++;
    let ended = false;
    const broken = (why: string) => {
      if (ended || this.call !== call) return;
      ended = true;
      this.scheduleReconnect(why);
    };
    call.on("message", (bytes: Buffer) => {
      this.attempt = 0;
      let response: DiscoveryResponse__Output;
      try {
        response = decodeMessage(SCHEMA, "DiscoveryResponse", bytes) as unknown as DiscoveryResponse__Output;
      } catch (err) {
        // Bytes that are not a DiscoveryResponse cannot be NACKed by nonce: drop the stream and ask again.
        broken(
          `the control plane sent a message that is not a DiscoveryResponse (${(err as Error).message})`,
        );
        return;
      }
      this.handle(call, response);
    });
    call.on("error", (err: GrpcStatusError) => broken(err.details || err.message));
    call.on("end", () => broken("the control plane closed the stream"));
    for (const type of WILDCARD_TYPES) this.request(call, type, "");
    if (this.wanted.size > 0) for (const type of NAMED_TYPES) this.request(call, type, "");
  }

  private scheduleReconnect(why: string): void {
    if (this.stopped) return;
    const delay = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** this.attempt);
    this.attempt++;
    this.log(
      `config stream to ${this.options.target} lost (${why}); keeping the last config, retrying in ${delay} ms`,
    );
    this.teardown();
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private teardown(): void {
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    this.channel?.close();
    this.channel = undefined;
  }

  private handle(call: Call, r: DiscoveryResponse__Output): void {
    const store = this.options.store;
    const type = TYPES[r.type_url];
    if (!type) {
      this.send(call, {
        type_url: r.type_url,
        response_nonce: r.nonce,
        error_detail: nackOf(`unknown type_url "${r.type_url}"`),
      });
      return;
    }
    this.nonces.set(r.type_url, r.nonce);
    const lastGood = store.versions[type.version];
    try {
      type.apply(store, r);
    } catch (err) {
      // Keep routing with the last good config: only the change is refused, and the reason goes back.
      const reason = (err as Error).message;
      store.noteRejected(r.type_url, reason);
      this.log(`rejected ${r.type_url} version ${r.version_info}: ${reason}`);
      this.request(call, r.type_url, r.nonce, lastGood, nackOf(reason));
      return;
    }
    this.request(call, r.type_url, r.nonce, r.version_info);
  }

  /** A request for one type: every request repeats the whole set of names (xDS state of the world). */
  private request(
    call: Call,
    typeUrl: string,
    nonce: string,
    version = this.options.store.versions[TYPES[typeUrl]?.version ?? "services"],
    error?: { code: number; message: string },
  ): void {
    const names = NAMED_TYPES.includes(typeUrl) ? this.wantedServices() : [];
    this.send(call, {
      type_url: typeUrl,
      version_info: version,
      response_nonce: nonce,
      resource_names: names,
      error_detail: error,
    });
  }

  private send(call: Call, request: Omit<DiscoveryRequest, "node">): void {
    const { labels, ...node } = this.options.node;
    const message: DiscoveryRequest = { node: { ...node, labels }, ...request };
    call.write(encodeMessage(SCHEMA, "DiscoveryRequest", message as Record<string, unknown>));
  }
}

function nackOf(message: string) {
  return { code: INVALID_ARGUMENT, message };
}

function toUpdate<T>(
  r: DiscoveryResponse__Output,
  parse: (res: WireResourceOutput, path: string) => [string, T],
): ConfigUpdate<T> {
  const resources = new Map<string, T>();
  (r.resources ?? []).forEach((res, i) => {
    const [name, value] = parse(res, `resources[${i}]`);
    if (resources.has(name))
      throw new SidecarError("INVALID_CONFIG", `resources[${i}]: "${name}" appears twice in one response`);
    resources.set(name, value);
  });
  return { resources, removed: r.removed_resources ?? [], incremental: r.incremental === true };
}

function serviceOf(res: WireResourceOutput, path: string): [string, ServiceConfig] {
  if (!res.service)
    throw new SidecarError("INVALID_CONFIG", `${path} carries no service body (type weft.v1.Service)`);
  const service = parseService(res.service, `${path}.service`);
  return [service.name, service];
}

function endpointsOf(res: WireResourceOutput, path: string): [string, EndpointConfig[]] {
  if (!res.endpoints)
    throw new SidecarError(
      "INVALID_CONFIG",
      `${path} carries no endpoints body (type weft.v1.ServiceEndpoints)`,
    );
  const name = res.endpoints.service || res.name;
  if (!name) throw new SidecarError("INVALID_CONFIG", `${path}.endpoints.service is empty`);
  const list = (res.endpoints.endpoints ?? []).map((e, i) => {
    const endpoint = parseEndpoint(e, `${path}.endpoints.endpoints[${i}]`);
    return { ...endpoint, service: endpoint.service || name };
  });
  return [name, list];
}

/** A parser for a body named by the resource (routes, policy, telemetry), keyed by resource name. */
function body<T>(
  field: "routes" | "policy" | "telemetry",
  parse: (value: unknown, path: string, name: string) => T,
): (res: WireResourceOutput, path: string) => [string, T] {
  return (res, path) => {
    if (!res.name) throw new SidecarError("INVALID_CONFIG", `${path}.name is empty`);
    if (!res[field]) throw new SidecarError("INVALID_CONFIG", `${path} carries no ${field} body`);
    return [res.name, parse(res[field], `${path}.${field}`, res.name)];
  };
}
