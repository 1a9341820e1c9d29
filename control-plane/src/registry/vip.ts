// Virtual IPs for services, from the service range (10.96.0.0/16 by default).
import { ControlPlaneError } from "../errors";

export interface Cidr {
  network: number;
  prefixLength: number;
  /** Number of addresses in the range. */
  size: number;
}

export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Parses "10.96.0.0/16"; throws INVALID_CIDR naming the flag to fix. */
export function parseCidr(text: string): Cidr {
  const [ip, len, extra] = text.split("/");
  const base = ip === undefined ? undefined : ipv4ToInt(ip);
  const prefixLength = Number(len);
  if (
    base === undefined ||
    extra !== undefined ||
    !/^\d{1,2}$/.test(len ?? "") ||
    prefixLength < 8 ||
    prefixLength > 30
  ) {
    throw new ControlPlaneError(
      "INVALID_CIDR",
      `service range "${text}" is not an IPv4 CIDR with a prefix from /8 to /30; pass e.g. --service-cidr 10.96.0.0/16`,
    );
  }
  const size = 2 ** (32 - prefixLength);
  const network = base - (base % size);
  return { network, prefixLength, size };
}

/** Whether an IPv4 address (dotted) lies in the range; false for anything else. */
export function inRange(range: Cidr, ip: string): boolean {
  const n = ipv4ToInt(ip);
  return n !== undefined && n >= range.network && n < range.network + range.size;
}

/**
 * The lowest address of the range that is not taken. Skips the network and broadcast addresses and
 * any address ending in .0 or .1, which people read as networks and gateways.
 */
export function allocateVirtualIp(range: Cidr, taken: ReadonlySet<string>): string {
  const last = range.network + range.size - 1;
  for (let n = range.network + 1; n < last; n++) {
    const low = n & 255;
    if (low === 0 || low === 1) continue;
    const ip = intToIpv4(n);
    if (!taken.has(ip)) return ip;
  }
  throw new ControlPlaneError(
    "VIP_RANGE_EXHAUSTED",
    `no free virtual IP left in ${intToIpv4(range.network)}/${range.prefixLength}; start the control plane with a larger --service-cidr`,
  );
}
