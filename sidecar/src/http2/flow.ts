// What every stream of one H2Proxy shares, and the end of one exchange: metrics with the status the
// client got, then the completion hook, once.
import { completeRequest } from "../http/complete";
import type { Mirrors } from "../http/mirror";
import type { RequestContext, RequestHooks } from "../http/route";
import type { Direction, Metrics } from "../telemetry/metrics";

export interface H2Flow {
  direction: Direction;
  /** This proxy's Via entry. */
  via: string;
  metrics: Metrics;
  hooks: RequestHooks;
  /** Set on drain: client sessions get GOAWAY. */
  draining: boolean;
  /** Where copies for a route's mirror go out (outbound only); absent: none are sent. */
  mirrors?: Mirrors;
}

export function finish(flow: H2Flow, ctx: RequestContext, status: number): void {
  if (ctx.durationMs === undefined) completeRequest(flow.metrics, flow.hooks, ctx, status);
}
