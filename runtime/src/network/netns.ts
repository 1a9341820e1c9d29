import { existsSync } from "node:fs";
import { type BridgeInfo, checkInterfaceName, linkExists } from "./bridge";
import { NetworkError, wrapCommandError } from "./errors";
import { CommandError, run } from "./exec";
import { contains, isWorkloadAddress, parseIpv4, parseSubnet } from "./subnet";

/** Where `ip netns add` puts the namespace handles. */
export const NETNS_DIR = "/var/run/netns";

export interface WorkloadNetwork {
  netns: string;
  netnsPath: string;
  hostVeth: string;
  address: string;
  gateway: string;
  prefixLength: number;
}

/** Kernel object names for a workload: netns "weft-<first 12 of id>", host veth "wv<first 10 of id>". */
export function workloadNames(id: string): { netns: string; hostVeth: string } {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) {
    throw new NetworkError("INVALID_ID", `workload id "${id}" must be letters, digits, '_', '.' or '-'`);
  }
  return { netns: `weft-${id.slice(0, 12)}`, hostVeth: `wv${id.slice(0, 10)}` };
}

export function netnsPath(netns: string): string {
  return `${NETNS_DIR}/${netns}`;
}

/**
 * Runs argv inside the netns with nsenter --net and resolves with its output once it exits (killed
 * after 2 minutes). Unlike `ip netns exec` this makes no mount namespace, which would otherwise pin
 * copies of other containers' overlay mounts for as long as the child lives.
 */
export async function execInNetns(
  netns: string,
  argv: string[],
): Promise<{ stdout: string; stderr: string }> {
  const path = netnsPath(netns);
  if (!existsSync(path)) {
    throw new NetworkError("NETNS_NOT_FOUND", `network namespace ${netns} does not exist (${path})`);
  }
  if (argv.length === 0) throw new NetworkError("NETNS_EXEC_FAILED", "execInNetns needs a command to run");
  try {
    return await run("nsenter", [`--net=${path}`, "--", ...argv], { timeoutMs: 120_000 });
  } catch (err) {
    throw wrapCommandError("NETNS_EXEC_FAILED", `running in netns ${netns}`, err);
  }
}

/**
 * Creates the workload's netns and a veth pair whose host end joins the bridge and whose other end
 * becomes eth0 in the netns, with the address, a default route via the gateway, lo up and IPv6 off.
 * On any failure it removes what it made and throws NetworkError naming the failing command.
 */
export async function createWorkloadNetwork(opts: {
  id: string;
  bridge: BridgeInfo;
  address: string;
}): Promise<WorkloadNetwork> {
  const { netns, hostVeth } = workloadNames(opts.id);
  checkInterfaceName(hostVeth, "host veth");
  const subnet = parseSubnet(opts.bridge.subnet);
  const addr = parseIpv4(opts.address);
  if (addr === undefined || !contains(subnet, addr) || !isWorkloadAddress(subnet, addr)) {
    throw new NetworkError(
      "INVALID_ADDRESS",
      `address "${opts.address}" is not a workload address of ${subnet.cidr} (not the network, gateway or broadcast)`,
    );
  }
  const path = netnsPath(netns);
  const net: WorkloadNetwork = {
    netns,
    netnsPath: path,
    hostVeth,
    address: opts.address,
    gateway: opts.bridge.gateway,
    prefixLength: opts.bridge.prefixLength,
  };
  if (existsSync(path)) {
    throw new NetworkError(
      "NETNS_EXISTS",
      `network namespace ${netns} already exists; remove the old workload first (ip netns del ${netns})`,
    );
  }

  let madeNetns = false;
  let madeVeth = false;
  try {
    // Five commands, not one per step: each fork of ip/nsenter costs tens of ms on a busy host, and
    // this is on every container's start path.
    await run("ip", ["netns", "add", netns]);
    madeNetns = true;
    // The peer is created straight inside the netns, where the name eth0 is free. Its MAC follows the
    // address (as Docker does): a reused address keeps its MAC, so neighbour entries the host cached
    // for the previous holder stay right instead of stalling the first packets.
    const mac = macForAddress(opts.address);
    await run("ip", [
      "link",
      "add",
      "name",
      hostVeth,
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "address",
      mac,
      "netns",
      netns,
    ]);
    madeVeth = true;
    await run("ip", ["link", "set", "dev", hostVeth, "master", opts.bridge.bridge, "up"]);
    // Before eth0 comes up, so it never gets an IPv6 address: IPv6 would bypass the IPv4 capture rules.
    // /proc/sys/net is per netns of the opener, so sysctl under nsenter --net changes only this netns.
    await run("nsenter", [
      `--net=${path}`,
      "--",
      "sysctl",
      "-q",
      "-w",
      "net.ipv6.conf.all.disable_ipv6=1",
      "net.ipv6.conf.default.disable_ipv6=1",
    ]);
    // Without a default route a connect() to a service VIP fails with ENETUNREACH before nat OUTPUT runs.
    const inside = [
      "link set dev lo up",
      `addr add ${opts.address}/${net.prefixLength} dev eth0`,
      "link set dev eth0 up",
      `route add default via ${net.gateway} dev eth0`,
    ];
    await run("ip", ["-n", netns, "-batch", "-"], { input: `${inside.join("\n")}\n` });
  } catch (err) {
    const failure = wrapCommandError(
      "NETWORK_SETUP_FAILED",
      `setting up the network of workload ${opts.id}`,
      err,
    );
    await undo(madeVeth ? hostVeth : undefined, madeNetns ? netns : undefined);
    throw failure;
  }
  return net;
}

/** A locally administered unicast MAC derived from an IPv4 address: 02:42:a:b:c:d in hex. */
export function macForAddress(address: string): string {
  const bytes = address.split(".").map((b) => Number(b).toString(16).padStart(2, "0"));
  return ["02", "42", ...bytes].join(":");
}

/** Best-effort removal after a failed create; the original error is what the user needs to see. */
async function undo(hostVeth: string | undefined, netns: string | undefined): Promise<void> {
  if (hostVeth) await run("ip", ["link", "del", "dev", hostVeth]).catch(() => {});
  if (netns) await run("ip", ["netns", "del", netns]).catch(() => {});
}

/**
 * Removes the workload's veth pair and netns; objects already gone are fine. The host end is deleted
 * explicitly because a netns that a process still holds open outlives `ip netns del`, and its veth with it.
 */
export async function destroyWorkloadNetwork(netns: string, hostVeth?: string): Promise<void> {
  const path = netnsPath(netns);
  try {
    // Deleting either end of a veth removes the pair; eth0 inside covers the case of an unknown host name.
    if (existsSync(path)) {
      await run("nsenter", [`--net=${path}`, "--", "ip", "link", "del", "dev", "eth0"]).catch(
        (err: unknown) => {
          if (!(err instanceof CommandError && /cannot find|does not exist/i.test(err.stderr))) throw err;
        },
      );
    }
    if (hostVeth && (await linkExists(hostVeth))) {
      await run("ip", ["link", "del", "dev", hostVeth]).catch((err: unknown) => {
        if (!(err instanceof CommandError && /cannot find|does not exist/i.test(err.stderr))) throw err;
      });
    }
    if (existsSync(path)) {
      await run("ip", ["netns", "del", netns]).catch((err: unknown) => {
        if (!(err instanceof CommandError && /no such file/i.test(err.stderr))) throw err;
      });
    }
  } catch (err) {
    throw wrapCommandError("NETWORK_TEARDOWN_FAILED", `removing network namespace ${netns}`, err);
  }
}
