// How many times the kernel's OOM killer killed a process of a cgroup: the one way to tell, after a
// container's app has died, that it died for exceeding --memory. Read it before the cgroup is removed.
import { join } from "node:path";
import { readKeyed } from "./files";
import type { CgroupLayout } from "./layout";

/**
 * v1: memory.oom_control's `oom_kill` (Linux 4.13+); v2: memory.events' `oom_kill`. 0 when the
 * cgroup or the memory controller is gone (nothing to report then).
 */
export async function readOomKills(layout: CgroupLayout, path: string): Promise<number> {
  if (layout.mode === "v2") {
    if (!layout.v2Mount) return 0;
    return (await readKeyed(join(layout.v2Mount, path, "memory.events"))).get("oom_kill") ?? 0;
  }
  const mount = layout.v1Mounts["memory"];
  if (!mount) return 0;
  return (await readKeyed(join(mount, path, "memory.oom_control"))).get("oom_kill") ?? 0;
}
