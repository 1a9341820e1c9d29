// Connecting an opaque TCP connection through its plan: a connect that fails goes to the next
// endpoint the plan offers (nothing of the client's bytes has been sent, so that is always safe),
// and the plan hears how each attempt ended, for outlier detection and in-flight counts.
import type { Socket } from "node:net";
import { type AttemptTarget, isRefusal, type RequestPlan } from "../upstream/plan";
import { type Dial, plainDial } from "./dial";

export type TcpConnectResult =
  /** `closed` must be called once the connection is over: the plan counts it open until then. */
  { ok: true; upstream: Socket; target: AttemptTarget; closed(): void } | { ok: false; reason: string };

export function connectThroughPlan(
  plan: RequestPlan,
  dial: Dial = plainDial,
  connectTimeoutMs = 10_000,
): Promise<TcpConnectResult> {
  return new Promise((resolve) => {
    const attempt = () => {
      const target = plan.next();
      if (isRefusal(target)) return resolve({ ok: false, reason: target.message.trim() });
      const started = performance.now();
      const dialed = dial(target, true);
      const upstream = dialed.socket;
      const failed = (error: string) => {
        upstream.destroy();
        if (plan.ended(target, { kind: "connect-failure", error }, true)) return attempt();
        resolve({ ok: false, reason: `connect to ${target.host}:${target.port} failed: ${error}` });
      };
      upstream.setTimeout(connectTimeoutMs, () => failed(`timed out after ${connectTimeoutMs} ms`));
      upstream.once("error", (err) => failed(err.message));
      upstream.once(dialed.readyEvent, () => {
        upstream.setTimeout(0);
        upstream.removeAllListeners("error");
        // The connection is the "response" (its latency is the connect time), ended when it closes,
        // so the circuit breaker's maxConnections counts open connections.
        const latencyMs = performance.now() - started;
        const closed = () => plan.ended(target, { kind: "response", status: 200, latencyMs }, false);
        resolve({ ok: true, upstream, target, closed });
      });
    };
    attempt();
  });
}
