// For tests against a real sidecar (harness.ts): one Route for service "web" pushed over the fake
// control plane's stream, answered by the sidecar's ACK or NACK.
import type { RouteRule } from "../../../proto/gen/weft/v1/RouteRule";
import type { Harness } from "./harness";

/** Pushes the rules as route "web-route" at `version`; the NACK's message, or undefined on ACK. */
export async function pushRoutes(
  h: Harness,
  rules: RouteRule[],
  version: number,
): Promise<string | undefined> {
  const nonce = h.cp.pushRaw({
    type_url: "weft.v1.ServiceRoutes",
    version_info: `r${version}`,
    resources: [
      {
        name: "web",
        routes: {
          service: "web",
          routes: [{ name: "web-route", version: String(version), spec: { rules } }],
        },
      },
    ],
  });
  const ack = await h.cp.waitFor((r) => r.response_nonce === nonce);
  return ack.error_detail?.message;
}
