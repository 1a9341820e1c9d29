// The plan for inbound traffic: one target (the app on loopback), no balancing, no retries. The
// calling sidecar already retried where that was safe; retrying again here would multiply them.
import type { AttemptTarget, RequestPlan } from "../upstream/plan";

export function fixedPlan(host: string, port: number): RequestPlan {
  const target: AttemptTarget = {
    host,
    port,
    endpoint: `${host}:${port}`,
    maxRequestsPerConnection: 0,
    meshTlsService: "",
  };
  return {
    route: "default",
    timeoutMs: 0,
    perTryTimeoutMs: 0,
    next: () => target,
    ended: () => false,
  };
}
