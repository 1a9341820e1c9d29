// The sidecar's own HTTP endpoints: admin (config dump, ready, drain, quit) on loopback only, health and
// metrics on every address so the runtime and Prometheus reach them from outside the workload
// (iptables leaves 15021 and 15090 uncaptured).
import type http from "node:http";
import type { ConfigStore } from "../config/store";
import type { Metrics } from "../telemetry/metrics";
import { ProfileBusy, profileSeconds, sampleAllocations, sampleCpu } from "./profiles";

/** What readiness waits for besides the first config: a reason while waiting, else undefined. */
export type Pending = () => string | undefined;

export interface AdminDeps {
  store: ConfigStore;
  metrics: Metrics;
  /** What /ready waits for besides the first config (the sidecar's: tracing loading); default nothing. */
  pending?: Pending;
  /** Extra facts for /config_dump (node identity, control plane, connects). */
  describe(): Record<string, unknown>;
  /** POST /drain: stop taking new work, finish what is in flight (the process stays up). */
  drain(): void;
  /** POST /quitquitquit: exit now (in-flight connections are closed). */
  quit(): void;
  /** GET /certs (as Envoy's): the workload certificate and trust bundle, or why there is none. */
  certs?(): Record<string, unknown>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export function adminHandler(deps: AdminDeps): Handler {
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/config_dump" && req.method === "GET") {
      return send(
        res,
        200,
        `${JSON.stringify({ ...deps.describe(), ...deps.store.dump() }, null, 2)}\n`,
        "application/json",
      );
    }
    if (path === "/ready" && req.method === "GET") return readiness(deps.store, res, deps.pending);
    if (path === "/certs" && req.method === "GET" && deps.certs) {
      return send(res, 200, `${JSON.stringify(deps.certs(), null, 2)}\n`, "application/json");
    }
    if (path === "/drain" && req.method === "POST") {
      send(res, 200, "draining\n");
      deps.drain();
      return;
    }
    if (path === "/quitquitquit" && req.method === "POST") {
      send(res, 200, "quitting\n");
      deps.quit();
      return;
    }
    if (path === "/heap_profile" && req.method === "POST")
      return profile(req, res, "heap", sampleAllocations);
    if (path === "/cpu_profile" && req.method === "POST") return profile(req, res, "cpu", sampleCpu);
    send(
      res,
      404,
      "admin: GET /config_dump, GET /ready, GET /certs, POST /drain, POST /quitquitquit, POST /heap_profile?seconds=N, " +
        "POST /cpu_profile?seconds=N\n",
    );
  };
}

/** `draining`: once true, readiness fails, so whoever balances onto this workload stops. `pending`:
 * as AdminDeps.pending, for /healthz/ready. */
export function healthHandler(
  store: ConfigStore,
  draining: () => boolean = () => false,
  pending?: Pending,
): Handler {
  return (req, res) => {
    if ((req.url ?? "").split("?")[0] === "/healthz/ready") {
      if (draining()) return send(res, 503, "draining\n");
      return readiness(store, res, pending);
    }
    send(res, 404, "health: GET /healthz/ready\n");
  };
}

export function metricsHandler(metrics: Metrics): Handler {
  return (req, res) => {
    if ((req.url ?? "").split("?")[0] === "/metrics") {
      return send(res, 200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
    }
    send(res, 404, "metrics: GET /metrics\n");
  };
}

function profile(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  kind: "heap" | "cpu",
  take: (seconds: number) => Promise<object>,
): void {
  const seconds = profileSeconds((req.url ?? "").split("?")[1] ?? "");
  if (typeof seconds === "string") {
    send(res, 400, `${seconds}\n`);
    return;
  }
  take(seconds).then(
    (p) => send(res, 200, JSON.stringify(p), "application/json"),
    (err: Error) => send(res, err instanceof ProfileBusy ? 409 : 500, `${kind} profile: ${err.message}\n`),
  );
}

/** 200 once the first Service response was accepted (endpoints come per service, on demand) and
 * nothing is pending, 503 with the reason before. */
function readiness(store: ConfigStore, res: http.ServerResponse, pending?: Pending): void {
  if (!store.ready) {
    send(res, 503, "not ready: waiting for the first Service config from the control plane\n");
    return;
  }
  const waiting = pending?.();
  if (waiting) send(res, 503, `not ready: ${waiting}\n`);
  else send(res, 200, "LIVE\n");
}

function send(
  res: http.ServerResponse,
  status: number,
  body: string,
  type = "text/plain; charset=utf-8",
): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
