// One worker of bench/push.ts: holds a share of the simulated sidecars, each a real grpc-js config
// stream on its own HTTP/2 connection (a local subchannel pool, as separate sidecars would have),
// subscribed to Service (every service) and to the endpoints of one service. It ACKs every response
// at once and reports, per stream, when the endpoint change the parent announces arrived.
import * as grpc from "@grpc/grpc-js";
import { loadWeftProto } from "../proto/grpc";
import {
  type ConfigDiscoveryClient,
  type DiscoveryRequest,
  type DiscoveryResponse__Output,
  grpcTarget,
  TYPE_ENDPOINTS,
  TYPE_SERVICE,
} from "../proto/index";

export type ToWorker =
  | { cmd: "connect"; target: string; ids: number[]; serviceOf: string[]; batch: number }
  | { cmd: "watch"; round: number; service: string; address: string; timeoutMs: number }
  | { cmd: "close" };

export type FromWorker =
  | { type: "connected"; streams: number; ms: number }
  | { type: "watching"; round: number }
  | { type: "acks"; round: number; times: number[]; missing: number; unexpected: number }
  | { type: "error"; message: string };

interface Sidecar {
  id: number;
  service: string;
  client: ConfigDiscoveryClient;
  call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>;
  endpointsSeen: number;
}

const now = () => performance.timeOrigin + performance.now();
const sidecars: Sidecar[] = [];
let watch: { round: number; service: string; address: string; times: number[]; pending: number } | undefined;
let unexpected = 0;
let onFirstEndpoints: (() => void) | undefined;
let closing = false;

function send(message: FromWorker): void {
  process.send?.(message);
}

function open(target: string, id: number, service: string): Sidecar {
  const proto = loadWeftProto();
  const client = new proto.weft.v1.ConfigDiscovery(grpcTarget(target), grpc.credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  });
  const call = client.StreamConfig();
  const s: Sidecar = { id, service, client, call, endpointsSeen: 0 };
  const node = { id: `bench-${id}`, workload: `bench-${id}`, service: "bench" };
  call.on("data", (r: DiscoveryResponse__Output) => {
    const names = r.type_url === TYPE_ENDPOINTS ? [service] : [];
    call.write({
      type_url: r.type_url,
      version_info: r.version_info,
      response_nonce: r.nonce,
      resource_names: names,
    });
    if (r.type_url !== TYPE_ENDPOINTS) return;
    s.endpointsSeen++;
    if (s.endpointsSeen === 1) onFirstEndpoints?.();
    else if (watch) {
      const hit = r.resources.some(
        (res) =>
          res.name === watch!.service && res.endpoints?.endpoints.some((e) => e.address === watch!.address),
      );
      if (!hit || s.service !== watch.service) {
        unexpected++;
        return;
      }
      watch.times.push(now());
      if (--watch.pending === 0) finishWatch();
    }
  });
  call.on("error", (err) => {
    if (!closing) send({ type: "error", message: `stream ${id}: ${err.message}` });
  });
  call.write({ node, type_url: TYPE_SERVICE, version_info: "", response_nonce: "", resource_names: [] });
  call.write({ type_url: TYPE_ENDPOINTS, version_info: "", response_nonce: "", resource_names: [service] });
  return s;
}

let watchTimer: NodeJS.Timeout | undefined;
function finishWatch(): void {
  if (!watch) return;
  clearTimeout(watchTimer);
  send({ type: "acks", round: watch.round, times: watch.times, missing: watch.pending, unexpected });
  watch = undefined;
  unexpected = 0;
}

async function connect(target: string, ids: number[], serviceOf: string[], batch: number): Promise<void> {
  const started = now();
  for (let i = 0; i < ids.length; i += batch) {
    const chunk = ids.slice(i, i + batch);
    let waiting = chunk.length;
    const done = new Promise<void>((resolve) => {
      onFirstEndpoints = () => {
        if (--waiting === 0) resolve();
      };
    });
    for (const [k, id] of chunk.entries()) sidecars.push(open(target, id, serviceOf[i + k]!));
    await done;
  }
  onFirstEndpoints = undefined;
  send({ type: "connected", streams: sidecars.length, ms: now() - started });
}

process.on("message", (m: ToWorker) => {
  if (m.cmd === "connect") {
    connect(m.target, m.ids, m.serviceOf, m.batch).catch((err: Error) =>
      send({ type: "error", message: err.message }),
    );
  } else if (m.cmd === "watch") {
    const pending = sidecars.filter((s) => s.service === m.service).length;
    watch = { round: m.round, service: m.service, address: m.address, times: [], pending };
    send({ type: "watching", round: m.round });
    if (pending === 0) finishWatch();
    else watchTimer = setTimeout(finishWatch, m.timeoutMs);
  } else if (m.cmd === "close") {
    closing = true;
    for (const s of sidecars) {
      s.call.cancel();
      s.client.close();
    }
    setTimeout(() => process.exit(0), 200);
  }
});
