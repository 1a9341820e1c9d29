import { writeFile } from "node:fs/promises";
import { NetworkError, wrapCommandError } from "./errors";
import { CommandError, run } from "./exec";
import { formatIpv4, parseIpv4, parseSubnet, type Subnet } from "./subnet";

export interface BridgeOptions {
  /** Linux interface name, e.g. "weft0" (≤ 15 characters). */
  bridge: string;
  /** IPv4 CIDR of the workload subnet, e.g. "10.88.0.0/16"; the bridge takes its first host address. */
  subnet: string;
}

export interface BridgeInfo {
  bridge: string;
  /** Normalised CIDR. */
  subnet: string;
  gateway: string;
  prefixLength: number;
}

/** Checks an interface name the kernel would accept, so a bad flag fails with a clear message. */
export function checkInterfaceName(name: string, what: string): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name) || name === "." || name === "..") {
    throw new NetworkError(
      "INVALID_NAME",
      `${what} "${name}" is not a valid interface name: use 1 to 15 letters, digits, '_', '.' or '-'`,
    );
  }
}

/** True when the link exists in the current netns. */
export async function linkExists(name: string): Promise<boolean> {
  try {
    await run("ip", ["link", "show", "dev", name]);
    return true;
  } catch (err) {
    if (err instanceof CommandError && /does not exist/i.test(err.stderr)) return false;
    throw err;
  }
}

/**
 * The rules that let bridged workload traffic through the host's FORWARD chain. br_netfilter sends
 * bridged frames through iptables, and a Docker daemon sets FORWARD's policy to DROP, so without these
 * two workloads on the same bridge cannot reach each other. Plain rules (no comment match), so that
 * scripts/sweep.sh and an operator can delete them with `iptables -D FORWARD -i BRIDGE -j ACCEPT`.
 */
function forwardRules(bridge: string): string[][] {
  return [
    ["FORWARD", "-i", bridge, "-j", "ACCEPT"],
    ["FORWARD", "-o", bridge, "-j", "ACCEPT"],
  ];
}

async function ruleExists(rule: string[]): Promise<boolean> {
  try {
    await run("iptables", ["-w", "-C", ...rule]);
    return true;
  } catch (err) {
    // -C exits 1 for "no such rule"; anything else (2: bad arguments, missing module) is a real failure.
    if (err instanceof CommandError && err.exitCode === 1) return false;
    throw err;
  }
}

/** Serialises ensure/remove per bridge, so two concurrent calls cannot both pass -C and both -A. */
const pending = new Map<string, Promise<unknown>>();
function serialised<T>(bridge: string, fn: () => Promise<T>): Promise<T> {
  const prev = pending.get(bridge) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const settled = next.catch(() => {});
  pending.set(bridge, settled);
  void settled.then(() => {
    if (pending.get(bridge) === settled) pending.delete(bridge);
  });
  return next;
}

/**
 * Makes sure the bridge exists, is up and holds the gateway address, that the host forwards IPv4 and
 * that FORWARD accepts the bridge's traffic. Safe to call on every daemon start.
 */
export async function ensureBridge(opts: BridgeOptions): Promise<BridgeInfo> {
  checkInterfaceName(opts.bridge, "bridge");
  const subnet = parseSubnet(opts.subnet);
  const info: BridgeInfo = {
    bridge: opts.bridge,
    subnet: subnet.cidr,
    gateway: formatIpv4(subnet.gateway),
    prefixLength: subnet.prefixLength,
  };
  return serialised(opts.bridge, async () => {
    const doing = `setting up bridge ${opts.bridge} for ${subnet.cidr}`;
    try {
      await refuseOverlap(opts.bridge, subnet);
      await createBridgeLink(opts.bridge);
      // replace, not add: idempotent, and it does not fail when the address is already there.
      await run("ip", ["addr", "replace", `${info.gateway}/${info.prefixLength}`, "dev", opts.bridge]);
      await run("ip", ["link", "set", "dev", opts.bridge, "up"]);
      await writeFile("/proc/sys/net/ipv4/ip_forward", "1\n");
      for (const rule of forwardRules(opts.bridge)) {
        if (!(await ruleExists(rule))) await run("iptables", ["-w", "-A", ...rule]);
      }
    } catch (err) {
      throw wrapCommandError("BRIDGE_FAILED", doing, err);
    }
    return info;
  });
}

/**
 * Refuses a subnet that overlaps a route of another interface (as Docker refuses a pool that overlaps
 * one in use): two bridges with the same addresses make the host send one's traffic to the other.
 * A broader route through a gateway (a VPN's 10.0.0.0/8) is no conflict: the bridge's longer prefix
 * wins, as with Docker. A broader connected one is: part of a LAN would be cut off.
 */
async function refuseOverlap(bridge: string, subnet: Subnet): Promise<void> {
  const { stdout } = await run("ip", ["-j", "-4", "route", "show", "table", "all"]);
  const routes = JSON.parse(stdout || "[]") as Array<{
    dst?: string;
    dev?: string;
    type?: string;
    gateway?: string;
  }>;
  for (const route of routes) {
    if (!route.dst || route.dst === "default" || route.dev === bridge) continue;
    if (route.type && route.type !== "unicast") continue; // local, broadcast: the host's own addresses
    const dst = route.dst.includes("/") ? route.dst : `${route.dst}/32`;
    let other: Subnet;
    try {
      other = parseRoute(dst);
    } catch {
      continue;
    }
    if (other.prefixLength < subnet.prefixLength && route.gateway) continue;
    if (other.network <= subnet.broadcast && subnet.network <= other.broadcast) {
      throw new NetworkError(
        "SUBNET_IN_USE",
        `subnet ${subnet.cidr} overlaps ${dst} routed via ${route.dev ?? "another interface"}; choose another --subnet (or remove that interface)`,
      );
    }
  }
}

/** A route's destination as a range (any prefix length, unlike a workload subnet). */
function parseRoute(cidr: string): Subnet {
  const [address, bits] = cidr.split("/");
  const start = parseIpv4(address ?? "");
  const prefixLength = Number(bits);
  if (start === undefined || !(prefixLength >= 0 && prefixLength <= 32))
    throw new Error(`not a route: ${cidr}`);
  const size = 2 ** (32 - prefixLength);
  const network = start - (start % size);
  return { cidr, network, prefixLength, broadcast: network + size - 1, gateway: network + 1 };
}

async function createBridgeLink(bridge: string): Promise<void> {
  try {
    await run("ip", ["link", "add", "name", bridge, "type", "bridge"]);
    return;
  } catch (err) {
    if (!(err instanceof CommandError && /exists/i.test(err.stderr))) throw err;
  }
  const { stdout } = await run("ip", ["-j", "-d", "link", "show", "dev", bridge]);
  const links = JSON.parse(stdout) as Array<{ linkinfo?: { info_kind?: string } }>;
  const kind = links[0]?.linkinfo?.info_kind;
  if (kind !== "bridge") {
    throw new NetworkError(
      "NOT_A_BRIDGE",
      `interface ${bridge} exists but is ${kind ? `a ${kind}` : "not a bridge"}; choose another --bridge name`,
    );
  }
}

/** Removes the bridge and weft's FORWARD rules for it. Workloads still attached lose connectivity. */
export async function removeBridge(bridge: string): Promise<void> {
  checkInterfaceName(bridge, "bridge");
  return serialised(bridge, async () => {
    try {
      for (const rule of forwardRules(bridge)) {
        // Loop in case an older weft, or a race outside this process, left duplicates.
        while (await ruleExists(rule)) await run("iptables", ["-w", "-D", ...rule]);
      }
      if (await linkExists(bridge)) {
        try {
          await run("ip", ["link", "del", "dev", bridge]);
        } catch (err) {
          if (!(err instanceof CommandError && /cannot find|does not exist/i.test(err.stderr))) throw err;
        }
      }
    } catch (err) {
      throw wrapCommandError("BRIDGE_FAILED", `removing bridge ${bridge}`, err);
    }
  });
}

/** For tests and diagnostics: weft's FORWARD rules currently present for the bridge, as `iptables -S` lines. */
export async function forwardRulesPresent(bridge: string): Promise<string[]> {
  const { stdout } = await run("iptables", ["-w", "-S", "FORWARD"]);
  const ours = new Set(forwardRules(bridge).map((rule) => `-A ${rule.join(" ")}`));
  return stdout.split("\n").filter((line) => ours.has(line.trim()));
}
