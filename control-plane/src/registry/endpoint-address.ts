// Which endpoint addresses a sidecar can reach a workload at: the registry refuses the others,
// whichever source sends them (SyncEndpoints, the Consul agent, an agent service stored before).
import { isIP } from "node:net";

/**
 * Why an IP address cannot be an endpoint's, or undefined: one no sidecar can connect to a workload
 * at (0.0.0.0, which connects to the caller's own host; broadcast, multicast and the reserved
 * 240.0.0.0/4), and any IPv6 address, which sidecars do not route. Loopback stays allowed: a control
 * plane on one host routes to its own workloads so.
 */
export function unroutableAddress(address: string): string | undefined {
  const v = isIP(address);
  if (v === 0) return "is not an IP address";
  if (v === 4) {
    const first = Number(address.slice(0, address.indexOf(".")));
    if (address === "0.0.0.0") return "is the unspecified address (a bind address, not one to connect to)";
    if (first >= 224) return "is a multicast, broadcast or reserved address, not a workload's";
    return undefined;
  }
  // Sidecars reach endpoints over IPv4 only (as the workloads' network and the VIPs are): one they
  // could not take would make them refuse the service's whole endpoint list.
  return "is an IPv6 address; weft's mesh routes IPv4";
}
