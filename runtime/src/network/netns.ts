import { existsSync } from "node:fs";
import { weftSys } from "../sys/native";
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
 * On any failure it removes what it made and throws NetworkError naming the failing step.
 */
export async function createWorkloadNetwork(opts: {
  id: string;
  bridge: BridgeInfo;
  address: string;
}): Promise<WorkloadNetwork> {
  const { netns, hostVeth } = workloadNames(opts.id);
  checkInterfaceName(hostVeth, "host veth");
  checkInterfaceName(opts.bridge.bridge, "bridge");
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

  if (existsSync(`/sys/class/net/${hostVeth}`)) {
    throw new NetworkError(
      "NETWORK_SETUP_FAILED",
      `a host interface named ${hostVeth} already exists; remove the old workload first (ip link del ${hostVeth})`,
    );
  }
  // Made here, over rtnetlink and from short-lived threads (runtime/native/weftsys.c), like `ip netns
  // add` and the `ip` commands that did it before: those processes (sh, ip, nsenter) took a
  // container's create about 15 ms on a 2-core host, competing with runc for the CPU.
  const sys = weftSys();
  try {
    // IPv6 goes off before eth0 exists, so eth0 never gets an IPv6 address (IPv6 would bypass the
    // IPv4 capture rules).
    sys.createNetns(path, true);
  } catch (err) {
    throw new NetworkError(
      "NETWORK_SETUP_FAILED",
      `creating network namespace ${netns} failed: ${(err as Error).message}`,
    );
  }
  try {
    // A veth whose peer is made straight inside the netns as eth0, host end up on the bridge; inside:
    // lo up, eth0's address, eth0 up, and the default route via the gateway (without it a connect()
    // to a service VIP fails with ENETUNREACH before nat OUTPUT runs). The peer's MAC follows the
    // address (as Docker does): a reused address keeps its MAC, so neighbour entries the host cached
    // for the previous holder stay right instead of stalling the first packets.
    sys.wireWorkload(
      path,
      hostVeth,
      opts.bridge.bridge,
      macForAddress(opts.address),
      opts.address,
      opts.bridge.prefixLength,
      opts.bridge.gateway,
    );
  } catch (err) {
    // Both were checked absent above, so whatever exists now is this call's to remove.
    await undo(existsSync(`/sys/class/net/${hostVeth}`) ? hostVeth : undefined, netns);
    throw new NetworkError(
      "NETWORK_SETUP_FAILED",
      `setting up the network of workload ${opts.id} failed: ${(err as Error).message}`,
    );
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
