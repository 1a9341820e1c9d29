// Who may call this workload's service (its AuthorizationPolicy, pushed inside its ServicePolicy):
// checked on every inbound request, and once per opaque TCP connection, before the rate limit and
// the app. The caller is the service its mutual TLS certificate names; a plain-text caller has no
// identity and matches only rules without `from`. A denied request is answered 403 ("RBAC: access
// denied", as Envoy words it; gRPC: PERMISSION_DENIED) and a denied connection is closed.
import { authorize, callerService } from "../../../proto/authorization-rules";
import type { PolicyConfig } from "../config/types";
import type { RequestInfo, RouteRefusal } from "../http/route";
import type { Metrics } from "../telemetry/metrics";

/** The refusal for a request (or, without one, a TCP connection) its policy denies; else undefined. */
export function checkAuthorization(
  metrics: Metrics,
  policy: PolicyConfig | undefined,
  service: string,
  peerIdentity: string | undefined,
  req?: RequestInfo,
): RouteRefusal | undefined {
  const a = policy?.authorization;
  if (!a) return undefined;
  const caller = callerService(peerIdentity);
  const decision = authorize(a.spec, caller, req);
  if (decision.allowed) return undefined;
  metrics.authorizationDenied(service, caller ?? "");
  const who = caller ? `service "${caller}"` : "a caller without a mesh identity (plain text)";
  const q = req ? req.path.indexOf("?") : -1;
  const what = req ? `${req.method} ${q < 0 ? req.path : req.path.slice(0, q)}` : "open a connection";
  return {
    status: 403,
    message: `RBAC: access denied: ${who} may not ${what} on "${service}" (AuthorizationPolicy ${a.name}, ${decision.by})\n`,
    denied: { policy: a.name, by: decision.by },
  };
}
