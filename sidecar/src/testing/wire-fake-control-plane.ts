// A fake ConfigDiscovery server for tests: connect, receive, ACK in a few lines (as Istio's fake
// discovery server lets a test do). It pushes state-of-the-world responses and records requests.
import * as grpc from "@grpc/grpc-js";
import { loadWeftProto } from "../../../proto/grpc";
import {
  type DiscoveryRequest__Output,
  type DiscoveryResponse,
  TYPE_ENDPOINTS,
  TYPE_SERVICE,
  type WireEndpoint,
  type WireService,
} from "../../../proto/index";
import { rawMethod } from "./raw-method";

export interface FakeControlPlane {
  /** The grpc target to give the sidecar: "127.0.0.1:PORT" or "unix:///path". */
  target: string;
  /** Every request received, in order. */
  requests: DiscoveryRequest__Output[];
  /** The bodies of OTLP trace exports received, when started with keepTelemetry. */
  traceExports: Buffer[];
  /** The bodies of log-sink pushes (LogBatch) received, when started with keepTelemetry. */
  logPushes: Buffer[];
  /** Sends the services to every open stream (and to streams opened later); returns the nonce. */
  pushServices(services: WireService[], version: string): string;
  /** Sends the endpoints of each service (keyed by service name). */
  pushEndpoints(endpoints: Record<string, WireEndpoint[]>, version: string): string;
  /** Sends a raw response (to test what the sidecar refuses). */
  pushRaw(response: DiscoveryResponse): string;
  /** Resolves with the first request after `from` (an index into requests) that matches. */
  waitFor(
    match: (r: DiscoveryRequest__Output) => boolean,
    from?: number,
    timeoutMs?: number,
  ): Promise<DiscoveryRequest__Output>;
  close(): Promise<void>;
}

/** Starts on `address` ("127.0.0.1:0" or "unix:///path/cp.sock"). */
export async function startFakeControlPlane(
  address = "127.0.0.1:0",
  /** keepTelemetry: keep what the sidecars export and push (for tests; benches would pile it up). */
  o: { keepTelemetry?: boolean } = {},
): Promise<FakeControlPlane> {
  const proto = loadWeftProto();
  const server = new grpc.Server();
  const streams = new Set<grpc.ServerDuplexStream<DiscoveryRequest__Output, DiscoveryResponse>>();
  const requests: DiscoveryRequest__Output[] = [];
  const waiters = new Set<() => void>();
  const latest = new Map<string, DiscoveryResponse>();
  let nonce = 0;

  server.addService(proto.weft.v1.ConfigDiscovery.service, {
    StreamConfig(call: grpc.ServerDuplexStream<DiscoveryRequest__Output, DiscoveryResponse>) {
      streams.add(call);
      const sentTypes = new Set<string>();
      call.on("data", (r: DiscoveryRequest__Output) => {
        requests.push(r);
        for (const w of waiters) w();
        // A first request for a type gets the latest state of that type.
        const last = latest.get(r.type_url);
        if (!r.response_nonce && last && !sentTypes.has(r.type_url)) {
          sentTypes.add(r.type_url);
          call.write(last);
        }
      });
      call.on("end", () => call.end());
      call.on("error", () => {});
      call.on("close", () => streams.delete(call));
    },
  });
  // Telemetry sinks that accept and discard, as the real control plane's stores would: without
  // them a sidecar's log shipper and span exporter back off and hold full buffers, which is not
  // what a sidecar does next to a working control plane (benches measure CPU and RSS with this).
  const traceExports: Buffer[] = [];
  const logPushes: Buffer[] = [];
  const keepInto =
    (kept: Buffer[]): grpc.handleUnaryCall<Buffer, Buffer> =>
    (call, done) => {
      if (o.keepTelemetry) kept.push(call.request);
      done(null, Buffer.alloc(0));
    };
  server.addService({ Push: rawMethod("/weft.v1.LogSink/Push") }, { Push: keepInto(logPushes) });
  server.addService(
    { Export: rawMethod("/opentelemetry.proto.collector.trace.v1.TraceService/Export") },
    { Export: keepInto(traceExports) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const target = address.startsWith("unix:") ? address : `127.0.0.1:${port}`;

  const push = (response: DiscoveryResponse): string => {
    const n = String(++nonce);
    const full = { ...response, nonce: n };
    if (response.type_url) latest.set(response.type_url, full);
    for (const s of streams) s.write(full);
    return n;
  };

  return {
    target,
    requests,
    traceExports,
    logPushes,
    pushServices: (services, version) =>
      push({
        type_url: TYPE_SERVICE,
        version_info: version,
        resources: services.map((s) => ({ name: s.name, version, service: s })),
      }),
    pushEndpoints: (endpoints, version) =>
      push({
        type_url: TYPE_ENDPOINTS,
        version_info: version,
        resources: Object.entries(endpoints).map(([service, list]) => ({
          name: service,
          version,
          endpoints: { service, endpoints: list },
        })),
      }),
    pushRaw: push,
    waitFor(match, from = 0, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = requests.slice(from).find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake control plane: no matching request within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.destroy();
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500).unref();
      }),
  };
}
