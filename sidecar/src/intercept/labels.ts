// Workload-level capture exclusions from labels, modelled on Istio's annotations
// (traffic.sidecar.istio.io/*): a workload asks for ports and CIDRs to bypass its sidecar.
//   traffic.weft.io/excludeInboundPorts: "22,9000"        inbound ports left alone
//   traffic.weft.io/excludeOutboundPorts: "5432"           outbound destination ports left alone
//   traffic.weft.io/excludeOutboundIPRanges: "10.0.0.0/8"  outbound destinations left alone
//   traffic.weft.io/includeOutboundIPRanges: "10.96.0.0/12" only these are captured ("*": all)
import { SidecarError } from "../errors";
import type { RedirectOptions } from "./rules";

export const LABEL_PREFIX = "traffic.weft.io/";
const KNOWN = [
  "excludeInboundPorts",
  "excludeOutboundPorts",
  "excludeOutboundIPRanges",
  "includeOutboundIPRanges",
];

/** The redirect options a workload's labels ask for; throws SidecarError INVALID_LABEL naming the label. */
export function interceptFromLabels(labels: Record<string, string> = {}): RedirectOptions {
  const options: RedirectOptions = {};
  for (const [key, value] of Object.entries(labels)) {
    if (!key.startsWith(LABEL_PREFIX)) continue;
    const name = key.slice(LABEL_PREFIX.length);
    const items = value
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
    switch (name) {
      case "excludeInboundPorts":
        options.excludeInboundPorts = ports(key, items);
        break;
      case "excludeOutboundPorts":
        options.excludeOutboundPorts = ports(key, items);
        break;
      case "excludeOutboundIPRanges":
        options.excludeOutboundCidrs = items.map(cidr);
        break;
      case "includeOutboundIPRanges":
        // "*" is the default (capture everything); an empty list would capture nothing, as Istio.
        options.includeOutboundCidrs = items.includes("*")
          ? []
          : items.length
            ? items.map(cidr)
            : ["0.0.0.0/32"];
        break;
      default:
        throw new SidecarError(
          "INVALID_LABEL",
          `unknown label ${key}; known: ${KNOWN.map((k) => LABEL_PREFIX + k).join(", ")}`,
        );
    }
  }
  return options;
}

function ports(key: string, items: string[]): number[] {
  return items.map((item) => {
    const n = Number(item);
    if (!/^\d+$/.test(item) || n < 1 || n > 65535) {
      throw new SidecarError(
        "INVALID_LABEL",
        `label ${key}: "${item}" is not a port (1-65535); use e.g. "22,9000"`,
      );
    }
    return n;
  });
}

/** A bare address is a /32, as Istio accepts. */
function cidr(item: string): string {
  return item.includes("/") ? item : `${item}/32`;
}
