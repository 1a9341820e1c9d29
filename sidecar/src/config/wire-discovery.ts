// The ConfigDiscovery stream client: the only sidecar module that touches the gRPC contract.
// One stream carries both types. Every response is validated whole, then ACKed (version + nonce)
// and applied, or NACKed (nonce, last good version, reason) and dropped, so the sidecar keeps
// routing with its last good config. When the stream breaks it reconnects with exponential backoff
// (capped at maxBackoffMs) and keeps serving meanwhile; on reconnect it tells the control plane
// which versions it already holds.
import * as grpc from "@grpc/grpc-js";
import {
  type ConfigDiscoveryClient,
  type DiscoveryRequest,
  type DiscoveryResponse__Output,
  grpcTarget,
  loadWeftProto,
  TYPE_ENDPOINTS,
  TYPE_SERVICE,
  type WireResourceOutput,
} from "../../../proto/index";
import { SidecarError } from "../errors";
import type { ConfigStore } from "./store";
import type { ConfigUpdate, EndpointConfig, ServiceConfig } from "./types";
import { parseEndpoint, parseService } from "./validate";

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

export class DiscoveryClient {
  private client: ConfigDiscoveryClient | undefined;
  private call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly log: (message: string) => void;
  /** How many streams have been opened (1 + reconnects); for tests and /config_dump. */
  connects = 0;

  constructor(private readonly options: DiscoveryClientOptions) {
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.log = options.log ?? ((m) => console.error(`weft sidecar: ${m}`));
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

  private connect(): void {
    this.teardown();
    if (this.stopped) return;
    const proto = loadWeftProto();
    const client = new proto.weft.v1.ConfigDiscovery(
      grpcTarget(this.options.target),
      grpc.credentials.createInsecure(),
      {
        "grpc.initial_reconnect_backoff_ms": this.initialBackoffMs,
        "grpc.max_reconnect_backoff_ms": this.maxBackoffMs,
      },
    );
    this.client = client;
    const call = client.StreamConfig();
    this.call = call;
    this.connects++;
    let ended = false;
    const broken = (why: string) => {
      if (ended || this.call !== call) return;
      ended = true;
      this.scheduleReconnect(why);
    };
    call.on("data", (response: DiscoveryResponse__Output) => {
      this.attempt = 0;
      this.handle(call, response);
    });
    call.on("error", (err: grpc.ServiceError) => broken(err.details || err.message));
    call.on("end", () => broken("the control plane closed the stream"));
    const versions = this.options.store.versions;
    this.send(call, { type_url: TYPE_SERVICE, version_info: versions.services });
    this.send(call, { type_url: TYPE_ENDPOINTS, version_info: versions.endpoints });
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
    if (call) {
      call.removeAllListeners();
      call.on("error", () => {}); // a cancelled call still emits CANCELLED
      call.cancel();
    }
    this.client?.close();
    this.client = undefined;
  }

  private handle(
    call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>,
    r: DiscoveryResponse__Output,
  ) {
    const store = this.options.store;
    const isService = r.type_url === TYPE_SERVICE;
    if (!isService && r.type_url !== TYPE_ENDPOINTS) {
      this.send(call, {
        type_url: r.type_url,
        response_nonce: r.nonce,
        error_detail: nackOf(`unknown type_url "${r.type_url}"`),
      });
      return;
    }
    const lastGood = isService ? store.versions.services : store.versions.endpoints;
    try {
      if (isService) store.applyServices(toUpdate(r, serviceOf), r.version_info);
      else store.applyEndpoints(toUpdate(r, endpointsOf), r.version_info);
    } catch (err) {
      // Keep routing with the last good config: only the change is refused, and the reason goes back.
      const reason = (err as Error).message;
      store.noteRejected(r.type_url, reason);
      this.log(`rejected ${r.type_url} version ${r.version_info}: ${reason}`);
      this.send(call, {
        type_url: r.type_url,
        version_info: lastGood,
        response_nonce: r.nonce,
        error_detail: nackOf(reason),
      });
      return;
    }
    this.send(call, { type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce });
  }

  private send(
    call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>,
    request: Omit<DiscoveryRequest, "node" | "resource_names">,
  ): void {
    const { labels, ...node } = this.options.node;
    call.write({
      node: { ...node, labels },
      resource_names: [],
      version_info: "",
      response_nonce: "",
      ...request,
    });
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
