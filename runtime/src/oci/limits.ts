import { readFileSync } from "node:fs";

/** What containers get for RLIMIT_NOFILE by default, as containerd and Docker give it. */
export const DOCKER_NOFILE = 1048576;

const CAP_SYS_RESOURCE = 24n;

let cached: number | undefined;

/**
 * The NOFILE limit a container can be given: 1048576, unless this process may not raise its hard
 * limit (no CAP_SYS_RESOURCE, as on hosts that run weft inside a container), in which case runc
 * would fail with "error setting rlimit type 7" and the current hard limit is the most it can set.
 */
export function containerNofile(status?: string, limits?: string): number {
  if (cached !== undefined && status === undefined) return cached;
  const statusText = status ?? readFileSync("/proc/self/status", "utf8");
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(statusText)?.[1];
  let value = DOCKER_NOFILE;
  if (capEff !== undefined && ((BigInt(`0x${capEff}`) >> CAP_SYS_RESOURCE) & 1n) === 0n) {
    const limitsText = limits ?? readFileSync("/proc/self/limits", "utf8");
    const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limitsText)?.[1];
    if (hard !== undefined && hard !== "unlimited") value = Math.min(DOCKER_NOFILE, Number(hard));
  }
  if (status === undefined) cached = value;
  return value;
}
