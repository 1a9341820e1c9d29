import { NetworkError } from "./errors";

/** An IPv4 subnet with its addresses as unsigned 32-bit integers. */
export interface Subnet {
  /** Normalised CIDR, e.g. "10.88.0.0/16" even when given "10.88.3.4/16". */
  cidr: string;
  network: number;
  prefixLength: number;
  broadcast: number;
  /** First host address; weft puts the bridge there. */
  gateway: number;
}

/** Parses dotted-quad IPv4 text; undefined when it is not one. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/**
 * Parses "A.B.C.D/N". Host bits are cleared. Prefixes longer than /30 are refused because a workload
 * subnet needs a network address, a gateway, at least one workload and a broadcast address.
 */
export function parseSubnet(cidr: string): Subnet {
  const invalid = (why: string) =>
    new NetworkError("INVALID_SUBNET", `subnet "${cidr}" ${why}; give an IPv4 CIDR such as 10.88.0.0/16`);
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!match) throw invalid("is not in A.B.C.D/N form");
  const address = parseIpv4(match[1]!);
  if (address === undefined) throw invalid("has an invalid address");
  const prefixLength = Number(match[2]);
  if (prefixLength < 1 || prefixLength > 30) throw invalid("needs a prefix length between /1 and /30");
  const size = 2 ** (32 - prefixLength);
  const network = address - (address % size);
  return {
    cidr: `${formatIpv4(network)}/${prefixLength}`,
    network,
    prefixLength,
    broadcast: network + size - 1,
    gateway: network + 1,
  };
}

export function contains(subnet: Subnet, address: number): boolean {
  return address >= subnet.network && address <= subnet.broadcast;
}

/** True for addresses a workload may hold: inside, and not the network, gateway or broadcast address. */
export function isWorkloadAddress(subnet: Subnet, address: number): boolean {
  return address > subnet.gateway && address < subnet.broadcast;
}
