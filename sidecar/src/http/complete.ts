// The end of one proxied exchange, the same for HTTP/1.1 and HTTP/2: the status the client got and
// the duration go into the context, the request metrics, then the completion hook.
import type { Metrics } from "../telemetry/metrics";
import type { RequestContext, RequestHooks } from "./route";

export function completeRequest(
  metrics: Metrics,
  hooks: RequestHooks,
  ctx: RequestContext,
  status: number,
): void {
  ctx.status = status;
  ctx.durationMs = performance.now() - ctx.startedAt;
  metrics.request({
    direction: ctx.direction,
    service: ctx.service,
    route: ctx.route,
    code: status,
    durationMs: ctx.durationMs,
  });
  hooks.onComplete?.(ctx);
}
