import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CgroupError } from "./errors";
import { readKeyed, readNumber, readOptional, removeTree, writeCgroupFile } from "./files";
import type { CgroupLayout } from "./layout";
import { type CgroupLimits, checkLimits } from "./limits";

/** v1 controllers weft puts its own processes under: the three it limits and cpuacct for usage. */
const V1_USED = ["memory", "cpu", "cpuacct", "pids"] as const;
/** v2 controllers weft enables down the tree. */
const V2_USED = ["memory", "cpu", "pids"] as const;

/** Refuses paths that would escape the hierarchy or name its root. */
function checkPath(path: string): void {
  const parts = path.split("/").slice(1);
  if (!path.startsWith("/") || parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\0"))) {
    throw new CgroupError(
      "INVALID_PATH",
      `cgroup path "${path}" must be absolute from the hierarchy root, like /weft/<id>, without empty, . or .. parts`,
    );
  }
}

/**
 * The directories this cgroup has: one per v1 hierarchy weft uses (cpu,cpuacct may share one), or
 * with `allHierarchies` one per mounted v1 hierarchy (runc also makes devices, freezer, ...); one in v2.
 */
function cgroupDirs(layout: CgroupLayout, path: string, allHierarchies = false): Map<string, string[]> {
  checkPath(path);
  const dirs = new Map<string, string[]>();
  if (layout.mode === "v2") {
    if (!layout.v2Mount) throw new CgroupError("NO_CGROUPS", "cgroup v2 layout without a mount point");
    dirs.set(join(layout.v2Mount, path), [...V2_USED]);
    return dirs;
  }
  const controllers = allHierarchies ? Object.keys(layout.v1Mounts) : V1_USED;
  for (const controller of controllers) {
    const mount = layout.v1Mounts[controller];
    if (!mount) continue;
    const dir = join(mount, path);
    dirs.set(dir, [...(dirs.get(dir) ?? []), controller]);
  }
  if (dirs.size === 0) {
    throw new CgroupError(
      "NO_CGROUPS",
      "none of the memory, cpu, cpuacct or pids cgroup controllers is mounted",
    );
  }
  return dirs;
}

function v1Dir(layout: CgroupLayout, controller: string, path: string, what: string): string {
  const mount = layout.v1Mounts[controller];
  if (!mount) {
    throw new CgroupError(
      "CONTROLLER_MISSING",
      `cannot set ${what}: the ${controller} cgroup controller is not mounted on this host; leave ${what} unset`,
    );
  }
  return join(mount, path);
}

/**
 * Creates the cgroup (and missing parents) and sets the limits given; unset limits stay as they are.
 * If a limit is refused, a cgroup this call created is removed again before the error is thrown.
 */
export async function createCgroup(layout: CgroupLayout, path: string, limits: CgroupLimits): Promise<void> {
  const checked = checkLimits(limits);
  const dirs = cgroupDirs(layout, path);
  const created: string[] = [];
  try {
    for (const dir of dirs.keys()) {
      if (existsSync(dir)) continue;
      await mkdir(dir, { recursive: true });
      created.push(dir);
    }
    if (layout.mode === "v2") {
      const dir = [...dirs.keys()][0]!;
      await enableV2Controllers(layout.v2Mount!, path);
      if (checked.memoryBytes !== undefined) {
        await writeCgroupFile(dir, "memory.max", String(checked.memoryBytes), "memoryBytes");
      }
      if (checked.cpu) {
        await writeCgroupFile(dir, "cpu.max", `${checked.cpu.quotaUs} ${checked.cpu.periodUs}`, "cpus");
      }
      if (checked.pids !== undefined) await writeCgroupFile(dir, "pids.max", String(checked.pids), "pids");
    } else {
      if (checked.memoryBytes !== undefined) {
        const dir = v1Dir(layout, "memory", path, "memoryBytes");
        await writeCgroupFile(dir, "memory.limit_in_bytes", String(checked.memoryBytes), "memoryBytes");
      }
      if (checked.cpu) {
        const dir = v1Dir(layout, "cpu", path, "cpus");
        // Period first: a quota is checked against the period in force when it is written.
        await writeCgroupFile(dir, "cpu.cfs_period_us", String(checked.cpu.periodUs), "cpus");
        await writeCgroupFile(dir, "cpu.cfs_quota_us", String(checked.cpu.quotaUs), "cpus");
      }
      if (checked.pids !== undefined) {
        await writeCgroupFile(v1Dir(layout, "pids", path, "pids"), "pids.max", String(checked.pids), "pids");
      }
    }
  } catch (err) {
    for (const dir of created) await removeTree(dir, 0).catch(() => {});
    throw err;
  }
}

/**
 * In v2 a controller's files appear in a cgroup only when every ancestor lists it in
 * cgroup.subtree_control; enable the ones the root offers, top-down. Unavailable ones are skipped
 * and surface as CONTROLLER_MISSING only if a limit needs them.
 */
async function enableV2Controllers(mount: string, path: string): Promise<void> {
  const available = new Set(
    ((await readOptional(join(mount, "cgroup.controllers"))) ?? "").trim().split(/\s+/),
  );
  const wanted = V2_USED.filter((c) => available.has(c));
  const ancestors: string[] = [];
  for (let dir = dirname(join(mount, path)); dir.startsWith(mount); dir = dirname(dir)) {
    ancestors.unshift(dir);
    if (dir === mount) break;
  }
  for (const dir of ancestors) {
    const enabled = new Set(
      ((await readOptional(join(dir, "cgroup.subtree_control"))) ?? "").trim().split(/\s+/),
    );
    for (const controller of wanted) {
      if (!enabled.has(controller)) {
        await writeCgroupFile(
          dir,
          "cgroup.subtree_control",
          `+${controller}`,
          `the ${controller} controller`,
        );
      }
    }
  }
}

/** Moves the process (and its threads) into the cgroup, in every hierarchy weft uses. */
export async function addProcess(layout: CgroupLayout, path: string, pid: number): Promise<void> {
  if (!Number.isSafeInteger(pid) || pid < 1) {
    throw new CgroupError("INVALID_PATH", `pid must be a positive whole number, got ${pid}`);
  }
  for (const dir of cgroupDirs(layout, path).keys()) {
    if (!existsSync(dir)) {
      throw new CgroupError(
        "CGROUP_NOT_FOUND",
        `cgroup ${dir} does not exist; create it with createCgroup first`,
      );
    }
    await writeCgroupFile(dir, "cgroup.procs", String(pid), `pid ${pid}`);
  }
}

/**
 * Removes the cgroup and any cgroups below it in every mounted hierarchy, so it also cleans up what
 * runc made for a container; already gone is fine. Its processes must have exited (CGROUP_BUSY
 * otherwise). Read usage and OOM counters before this if they matter.
 */
export async function removeCgroup(layout: CgroupLayout, path: string): Promise<void> {
  for (const dir of cgroupDirs(layout, path, true).keys()) await removeTree(dir);
}

/**
 * Current usage. memoryBytes excludes inactive page cache, as `docker stats` does, so a workload that
 * merely read big files does not look close to its limit. Controllers missing on this host read as 0.
 */
export async function readUsage(
  layout: CgroupLayout,
  path: string,
): Promise<{ memoryBytes: number; pids: number; cpuUsageNs: number }> {
  const dirs = [...cgroupDirs(layout, path).keys()];
  if (!dirs.some((dir) => existsSync(dir))) {
    throw new CgroupError("CGROUP_NOT_FOUND", `cgroup ${path} does not exist`);
  }
  if (layout.mode === "v2") {
    const dir = dirs[0]!;
    const current = (await readNumber(join(dir, "memory.current"))) ?? 0;
    const inactive = (await readKeyed(join(dir, "memory.stat"))).get("inactive_file") ?? 0;
    const usageUsec = (await readKeyed(join(dir, "cpu.stat"))).get("usage_usec") ?? 0;
    return {
      memoryBytes: Math.max(0, current - inactive),
      pids: (await readNumber(join(dir, "pids.current"))) ?? 0,
      cpuUsageNs: usageUsec * 1000,
    };
  }
  const at = (controller: string, file: string) => {
    const mount = layout.v1Mounts[controller];
    return mount ? join(mount, path, file) : undefined;
  };
  const num = async (file: string | undefined) => (file ? ((await readNumber(file)) ?? 0) : 0);
  const statFile = at("memory", "memory.stat");
  const inactive = statFile ? ((await readKeyed(statFile)).get("total_inactive_file") ?? 0) : 0;
  return {
    memoryBytes: Math.max(0, (await num(at("memory", "memory.usage_in_bytes"))) - inactive),
    pids: await num(at("pids", "pids.current")),
    cpuUsageNs: await num(at("cpuacct", "cpuacct.usage")),
  };
}
