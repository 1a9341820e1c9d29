import { availableParallelism } from "node:os";
import { CgroupError } from "./errors";

/** Resource limits of a workload or sidecar. Unset fields mean "no limit". */
export interface CgroupLimits {
  memoryBytes?: number;
  /** CPUs' worth of time per period, e.g. 0.5; at least 0.01 and at most the host's CPU count. */
  cpus?: number;
  /** Most processes and threads at once. */
  pids?: number;
  /** Relative CPU weight under contention (Docker's --cpu-shares, 2-262144, default 1024). */
  cpuShares?: number;
}

/** Limits checked and turned into the numbers the kernel files take. */
export interface CheckedLimits {
  memoryBytes?: number;
  cpu?: { quotaUs: number; periodUs: number };
  pids?: number;
  cpuShares?: number;
}

/** Docker's floor: below this a container cannot start its runtime without being OOM-killed. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
export const CPU_PERIOD_US = 100_000;
/** The kernel refuses a CFS quota under 1 ms. */
const MIN_CPU_QUOTA_US = 1000;

/** Validates limits; each error names the field and what to give instead. */
export function checkLimits(limits: CgroupLimits, hostCpus: number = availableParallelism()): CheckedLimits {
  const out: CheckedLimits = {};
  const bad = (message: string) => new CgroupError("INVALID_LIMIT", message);
  if (limits.memoryBytes !== undefined) {
    const m = limits.memoryBytes;
    if (!Number.isSafeInteger(m)) throw bad(`memoryBytes must be a whole number of bytes, got ${m}`);
    if (m < MIN_MEMORY_BYTES) throw bad(`memoryBytes must be at least 6 MiB (${MIN_MEMORY_BYTES}), got ${m}`);
    out.memoryBytes = m;
  }
  if (limits.cpus !== undefined) {
    const c = limits.cpus;
    if (!Number.isFinite(c) || c <= 0) throw bad(`cpus must be a number above 0, got ${c}`);
    if (c > hostCpus) throw bad(`cpus must be at most this host's ${hostCpus} CPUs, got ${c}`);
    const quotaUs = Math.round(c * CPU_PERIOD_US);
    if (quotaUs < MIN_CPU_QUOTA_US) throw bad(`cpus must be at least 0.01, got ${c}`);
    out.cpu = { quotaUs, periodUs: CPU_PERIOD_US };
  }
  if (limits.pids !== undefined) {
    const p = limits.pids;
    if (!Number.isSafeInteger(p) || p < 1) throw bad(`pids must be a whole number of at least 1, got ${p}`);
    out.pids = p;
  }
  if (limits.cpuShares !== undefined) {
    const sh = limits.cpuShares;
    if (!Number.isSafeInteger(sh) || sh < 2 || sh > 262144) {
      throw bad(`cpuShares must be a whole number from 2 to 262144 (default 1024), got ${sh}`);
    }
    out.cpuShares = sh;
  }
  return out;
}

/** The OCI runtime spec's linux.resources for these limits (what runc writes into the cgroup). */
export interface OciResources {
  memory?: { limit: number };
  /** runc turns shares into cpu.weight on cgroup v2. */
  cpu?: { quota?: number; period?: number; shares?: number };
  pids?: { limit: number };
}

/** Checks the limits and renders them as OCI linux.resources; unset limits are left out. */
export function ociResources(limits: CgroupLimits): OciResources {
  const checked = checkLimits(limits);
  const out: OciResources = {};
  if (checked.memoryBytes !== undefined) out.memory = { limit: checked.memoryBytes };
  if (checked.cpu) out.cpu = { quota: checked.cpu.quotaUs, period: checked.cpu.periodUs };
  if (checked.cpuShares !== undefined) out.cpu = { ...out.cpu, shares: checked.cpuShares };
  if (checked.pids !== undefined) out.pids = { limit: checked.pids };
  return out;
}
