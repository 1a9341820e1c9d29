// `weft stats`: two samples of a container's cgroup and veth counters, turned into what `docker
// stats` shows (CPU % over the interval, memory against its limit, network bytes, pids).
import { readFile } from "node:fs/promises";
import { totalmem } from "node:os";
import type { CgroupsPart, Clock, NetworkPart } from "./parts";
import type { ContainerState, ContainerStats } from "./types";

/** The host veth's counters; a veth that is gone reads as 0 (the container is stopping). */
export async function readVethCounters(hostVeth: string): Promise<{ rxBytes: number; txBytes: number }> {
  const read = async (f: string) => {
    try {
      return Number((await readFile(`/sys/class/net/${hostVeth}/statistics/${f}`, "utf8")).trim()) || 0;
    } catch {
      return 0;
    }
  };
  return { rxBytes: await read("rx_bytes"), txBytes: await read("tx_bytes") };
}

export interface StatsSources {
  cgroups: CgroupsPart;
  network: NetworkPart;
  clock: Clock;
  /** Default 500 ms: long enough for a stable CPU %, short enough for `weft stats` to feel live. */
  intervalMs?: number;
  /** Default the host's memory (os.totalmem()), shown as the limit of an unlimited container. */
  hostMemoryBytes?: number;
}

export async function sampleStats(state: ContainerState, src: StatsSources): Promise<ContainerStats> {
  const t0 = process.hrtime.bigint();
  const u0 = await src.cgroups.usage(state.cgroupPath);
  await src.clock.sleep(src.intervalMs ?? 500);
  const u1 = await src.cgroups.usage(state.cgroupPath);
  const wallNs = Number(process.hrtime.bigint() - t0);
  const net = await src.network.counters(state.hostVeth);
  const limit = state.memoryBytes ?? src.hostMemoryBytes ?? totalmem();
  return {
    id: state.id,
    name: state.name,
    cpuPercent: wallNs > 0 ? Math.max(0, ((u1.cpuUsageNs - u0.cpuUsageNs) / wallNs) * 100) : 0,
    cpuUsageNs: u1.cpuUsageNs,
    memoryBytes: u1.memoryBytes,
    memoryLimitBytes: limit,
    memoryPercent: limit > 0 ? (u1.memoryBytes / limit) * 100 : 0,
    // The host end of the veth receives what the container sends, and the other way round.
    netRxBytes: net.txBytes,
    netTxBytes: net.rxBytes,
    pids: u1.pids,
    read: src.clock.now().toISOString(),
  };
}
