import { readFileSync } from "node:fs";
import { CgroupError } from "./errors";

/**
 * Where the cgroup hierarchies are mounted. "v1": one mount per controller (or per group of
 * controllers, such as "cpu,cpuacct"); a cgroup2 mount next to them that holds no controllers (the
 * "unified" one of hybrid hosts) is recorded in v2Mount but not used. "v2": one cgroup2 mount.
 */
export interface CgroupLayout {
  mode: "v1" | "v2";
  /** controller → mount point, e.g. memory → /sys/fs/cgroup/memory; empty in v2 mode. */
  v1Mounts: Record<string, string>;
  v2Mount?: string;
}

/** v1 controllers; other mount options (rw, name=systemd, clone_children, ...) are not controllers. */
const V1_CONTROLLERS = new Set([
  "cpu",
  "cpuacct",
  "cpuset",
  "memory",
  "devices",
  "freezer",
  "net_cls",
  "net_prio",
  "blkio",
  "perf_event",
  "hugetlb",
  "pids",
  "rdma",
  "misc",
]);

interface MountLine {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash in paths as octal (\040). */
function decodeOctal(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** Parses one /proc/PID/mountinfo line (see proc(5)); undefined for lines that are not one. */
function parseLine(line: string): MountLine | undefined {
  const fields = line.trim().split(" ");
  const sep = fields.indexOf("-");
  if (sep < 6 || fields.length < sep + 4) return undefined;
  return {
    root: decodeOctal(fields[3]!),
    mountPoint: decodeOctal(fields[4]!),
    fsType: fields[sep + 1]!,
    superOptions: fields[sep + 3]!.split(","),
  };
}

/**
 * Reads the cgroup layout from mountinfo text (default: this process's). When a hierarchy is mounted
 * more than once, a mount of its root wins, because weft's cgroup paths are absolute from that root.
 */
export function detectCgroupLayout(mountinfo?: string): CgroupLayout {
  const text = mountinfo ?? readFileSync("/proc/self/mountinfo", "utf8");
  const v1Mounts: Record<string, string> = {};
  const v1Roots: Record<string, string> = {};
  let v2Mount: string | undefined;
  let v2Root: string | undefined;
  for (const line of text.split("\n")) {
    const m = parseLine(line);
    if (!m) continue;
    if (m.fsType === "cgroup") {
      for (const controller of m.superOptions.filter((o) => V1_CONTROLLERS.has(o))) {
        if (v1Mounts[controller] === undefined || (v1Roots[controller] !== "/" && m.root === "/")) {
          v1Mounts[controller] = m.mountPoint;
          v1Roots[controller] = m.root;
        }
      }
    } else if (m.fsType === "cgroup2" && (v2Mount === undefined || (v2Root !== "/" && m.root === "/"))) {
      v2Mount = m.mountPoint;
      v2Root = m.root;
    }
  }
  if (Object.keys(v1Mounts).length > 0) {
    return v2Mount === undefined ? { mode: "v1", v1Mounts } : { mode: "v1", v1Mounts, v2Mount };
  }
  if (v2Mount !== undefined) return { mode: "v2", v1Mounts: {}, v2Mount };
  throw new CgroupError(
    "NO_CGROUPS",
    "no cgroup filesystem is mounted (nothing of type cgroup or cgroup2 in /proc/self/mountinfo); mount one at /sys/fs/cgroup",
  );
}
