// The interception rules as data, rendered as iptables-restore text for the workload's netns.
// Modelled on Istio's tools/istio-iptables: a nat table with our own chains, so the rules of one
// concern (inbound, outbound) sit together and can be read in the order the kernel applies them.
import { isIPv4 } from "node:net";
import { SidecarError } from "../errors";
import {
  DNS_PORT,
  HEALTH_PORT,
  INBOUND_PORT,
  METRICS_PORT,
  OUTBOUND_PORT,
  PROXY_GID,
  PROXY_UID,
} from "../ports";

export interface RedirectOptions {
  /** uid whose traffic is never captured (the sidecar's own). Default 1337. */
  proxyUid?: number;
  /** gid whose traffic is never captured. Default 1337. */
  proxyGid?: number;
  /** Where the app's outbound TCP goes. Default 15001. */
  outboundPort?: number;
  /** Where inbound TCP goes. Default 15006. */
  inboundPort?: number;
  /** Where the app's DNS (udp and tcp 53) goes. Default 15053. */
  dnsPort?: number;
  /** Capture the app's DNS. Default true. */
  captureDns?: boolean;
  /** Inbound ports left alone, in addition to 15021 (health) and 15090 (metrics). Default none. */
  excludeInboundPorts?: number[];
  /** Outbound destination ports left alone. Default none. */
  excludeOutboundPorts?: number[];
  /** Outbound destination CIDRs left alone, e.g. "10.0.0.0/8". Default none. */
  excludeOutboundCidrs?: string[];
  /** When set, only outbound TCP to these CIDRs is captured (Istio's includeOutboundIPRanges). Default: all. */
  includeOutboundCidrs?: string[];
}

export const CHAIN_INBOUND = "WEFT_INBOUND";
export const CHAIN_IN_REDIRECT = "WEFT_IN_REDIRECT";
export const CHAIN_OUTPUT = "WEFT_OUTPUT";
export const CHAIN_REDIRECT = "WEFT_REDIRECT";

/** One `-A CHAIN args...` line. */
export interface Rule {
  chain: string;
  args: string[];
}

/** A table's worth of rules: the chains we create and the rules in the order they are appended. */
export interface RuleSet {
  table: "nat";
  chains: string[];
  rules: Rule[];
}

const BUILTIN_NAT_CHAINS = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"];

/** Builds the rules; throws SidecarError INVALID_RULE_OPTIONS naming a bad option. */
export function buildRedirectRules(options: RedirectOptions = {}): RuleSet {
  const o = withDefaults(options);
  const rules: Rule[] = [];
  const add = (chain: string, ...args: string[]) => rules.push({ chain, args });

  // Inbound: everything that arrives over TCP, except the ports that must stay reachable directly.
  add("PREROUTING", "-p", "tcp", "-j", CHAIN_INBOUND);
  for (const port of [HEALTH_PORT, METRICS_PORT, ...o.excludeInboundPorts]) {
    add(CHAIN_INBOUND, "-p", "tcp", "--dport", String(port), "-j", "RETURN");
  }
  add(CHAIN_INBOUND, "-p", "tcp", "-j", CHAIN_IN_REDIRECT);
  add(CHAIN_IN_REDIRECT, "-p", "tcp", "-j", "REDIRECT", "--to-ports", String(o.inboundPort));

  // Outbound: the sidecar's own traffic first, so its upstream connections are not captured again.
  add("OUTPUT", "-j", CHAIN_OUTPUT);
  add(CHAIN_OUTPUT, "-m", "owner", "--uid-owner", String(o.proxyUid), "-j", "RETURN");
  add(CHAIN_OUTPUT, "-m", "owner", "--gid-owner", String(o.proxyGid), "-j", "RETURN");
  // DNS before the loopback exemption: a resolver on 127.0.0.x must still reach the sidecar.
  if (o.captureDns) {
    for (const proto of ["udp", "tcp"]) {
      add(CHAIN_OUTPUT, "-p", proto, "--dport", "53", "-j", "REDIRECT", "--to-ports", String(o.dnsPort));
    }
  }
  add(CHAIN_OUTPUT, "-o", "lo", "-j", "RETURN");
  add(CHAIN_OUTPUT, "-d", "127.0.0.1/32", "-j", "RETURN");
  for (const cidr of o.excludeOutboundCidrs) add(CHAIN_OUTPUT, "-d", cidr, "-j", "RETURN");
  for (const port of o.excludeOutboundPorts) {
    add(CHAIN_OUTPUT, "-p", "tcp", "--dport", String(port), "-j", "RETURN");
  }
  if (o.includeOutboundCidrs.length > 0) {
    for (const cidr of o.includeOutboundCidrs)
      add(CHAIN_OUTPUT, "-p", "tcp", "-d", cidr, "-j", CHAIN_REDIRECT);
    add(CHAIN_OUTPUT, "-j", "RETURN");
  } else {
    add(CHAIN_OUTPUT, "-p", "tcp", "-j", CHAIN_REDIRECT);
  }
  add(CHAIN_REDIRECT, "-p", "tcp", "-j", "REDIRECT", "--to-ports", String(o.outboundPort));

  return { table: "nat", chains: [CHAIN_INBOUND, CHAIN_IN_REDIRECT, CHAIN_OUTPUT, CHAIN_REDIRECT], rules };
}

/**
 * iptables-restore text. Without --noflush it replaces the whole nat table, so applying it twice
 * leaves the same rules (no duplicates).
 */
export function renderIptablesRestore(set: RuleSet): string {
  const lines = [`* ${set.table}`];
  for (const chain of BUILTIN_NAT_CHAINS) lines.push(`:${chain} ACCEPT [0:0]`);
  for (const chain of set.chains) lines.push(`:${chain} - [0:0]`);
  for (const rule of set.rules) lines.push(`-A ${rule.chain} ${rule.args.join(" ")}`);
  lines.push("COMMIT", "");
  return lines.join("\n");
}

/** The interception rules for a workload netns as iptables-restore text. */
export function redirectRules(options: RedirectOptions = {}): string {
  return renderIptablesRestore(buildRedirectRules(options));
}

function withDefaults(options: RedirectOptions): Required<RedirectOptions> {
  const o: Required<RedirectOptions> = {
    proxyUid: options.proxyUid ?? PROXY_UID,
    proxyGid: options.proxyGid ?? PROXY_GID,
    outboundPort: options.outboundPort ?? OUTBOUND_PORT,
    inboundPort: options.inboundPort ?? INBOUND_PORT,
    dnsPort: options.dnsPort ?? DNS_PORT,
    captureDns: options.captureDns ?? true,
    excludeInboundPorts: options.excludeInboundPorts ?? [],
    excludeOutboundPorts: options.excludeOutboundPorts ?? [],
    excludeOutboundCidrs: options.excludeOutboundCidrs ?? [],
    includeOutboundCidrs: options.includeOutboundCidrs ?? [],
  };
  for (const key of ["proxyUid", "proxyGid"] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 0) fail(`${key} must be a non-negative integer, got ${o[key]}`);
  }
  for (const key of ["outboundPort", "inboundPort", "dnsPort"] as const) checkPort(key, o[key]);
  for (const key of ["excludeInboundPorts", "excludeOutboundPorts"] as const) {
    for (const port of o[key]) checkPort(key, port);
  }
  for (const key of ["excludeOutboundCidrs", "includeOutboundCidrs"] as const) {
    for (const cidr of o[key]) {
      const [ip, bits, extra] = cidr.split("/");
      const n = Number(bits);
      if (extra !== undefined || !ip || !isIPv4(ip) || !/^\d+$/.test(bits ?? "") || n > 32) {
        fail(`${key}: "${cidr}" is not an IPv4 CIDR like 10.0.0.0/8`);
      }
    }
  }
  return o;
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${name}: ${port} is not a port (1-65535)`);
}

function fail(message: string): never {
  throw new SidecarError("INVALID_RULE_OPTIONS", `redirect rules: ${message}`);
}
