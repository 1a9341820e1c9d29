import { mkdirSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { weftSys } from "../sys/native";
import { ImageError } from "./errors";
import { execTool } from "./exec";
import { mountsAt } from "./mountinfo";

/** umount2(2): detach now, free when no longer busy (umount -l). */
const MNT_DETACH = 2;

/** mount(2) copies at most one page of options (4096 bytes with the terminating NUL). */
export const MAX_MOUNT_OPTIONS = 4095;

export interface OverlayOptions {
  /** Read-only layer(s), top first: an array, or one string with several joined by ":". */
  lower: string | string[];
  /** Where the container's writes land. */
  upper: string;
  /** overlayfs scratch space; must be on the same filesystem as upper. */
  work: string;
  /** The merged view: the container's root. */
  target: string;
}

/**
 * Mounts an overlay, creating upper, work and target if needed. Mounting again with the same upper
 * layer is a no-op (a restarted daemon re-attaching a container); a different mount on the target
 * is an error rather than a silent stack.
 */
export async function mountOverlay(o: OverlayOptions): Promise<void> {
  // A layer twice (two commits that changed nothing add the empty layer twice; the store keeps one
  // directory per content) is refused by overlayfs with ELOOP. The topmost of the copies stands for
  // all: the same files sit over whatever lies between, so the merged view is the same.
  const lowers = [...new Set((Array.isArray(o.lower) ? o.lower : o.lower.split(":")).map((l) => resolve(l)))];
  if (lowers.length === 0) throw new ImageError("MOUNT_FAILED", "an overlay needs at least one lower layer");
  for (const l of lowers) {
    if (l.includes(":"))
      throw new ImageError("MOUNT_FAILED", `overlay lower "${l}" contains a colon; move it`);
  }
  const [upper, work, target] = [resolve(o.upper), resolve(o.work), resolve(o.target)];
  for (const p of [...lowers, upper, work]) {
    // The mount options are a comma-separated list with no quoting.
    if (p.includes(","))
      throw new ImageError("MOUNT_FAILED", `overlay path "${p}" contains a comma; move it`);
  }
  for (const p of [upper, work]) {
    if (p.includes(":"))
      throw new ImageError("MOUNT_FAILED", `overlay path "${p}" contains a colon; move it`);
  }
  const existing = mountsAt(target).at(-1);
  if (existing) {
    const mountedUpper = /(?:^|,)upperdir=([^,]*)/.exec(existing.superOptions)?.[1];
    if (existing.fsType === "overlay" && mountedUpper === upper) return;
    throw new ImageError(
      "MOUNT_FAILED",
      `${target} already has a ${existing.fsType} mount; unmount it first ('umount ${target}')`,
    );
  }
  // Synchronous (they exist when the engine calls): the mount then starts at once, before the other
  // work of a container's create that runs alongside it.
  for (const d of [upper, work, target]) mkdirSync(d, { recursive: true });
  const failed = (detail: string) =>
    new ImageError(
      "MOUNT_FAILED",
      `mounting the overlay on ${target} failed: ${detail}; upper and work must be on one ` +
        "filesystem that is not itself overlayfs (keep the state dir off overlay), and lower must exist",
    );
  const options = (lower: string) => `lowerdir=${lower},upperdir=${upper},workdir=${work}`;
  const absolute = options(lowers.join(":"));
  if (absolute.length <= MAX_MOUNT_OPTIONS) {
    // mount(2) itself: running mount(8) cost the create a process and its start.
    try {
      weftSys().mount("overlay", target, "overlay", 0, absolute);
    } catch (err) {
      throw failed((err as Error).message);
    }
    return;
  }
  // Layers of one store share a parent: mount from there with relative lowerdirs (the kernel resolves
  // them against the mounting process's cwd, as Docker's overlay2 does), so more layers fit in the
  // one page the kernel takes for mount options. The cwd is mount(8)'s, not the daemon's.
  const parent = dirname(lowers[0]!);
  const relative = lowers.every((l) => dirname(l) === parent);
  const shorter = options(relative ? lowers.map((l) => basename(l)).join(":") : lowers.join(":"));
  if (shorter.length > MAX_MOUNT_OPTIONS) {
    throw new ImageError(
      "MOUNT_FAILED",
      `the image has ${lowers.length} layers, more than one overlay mount can stack here (its options are ` +
        `${shorter.length} bytes, the kernel takes ${MAX_MOUNT_OPTIONS}); rebuild it with fewer layers ` +
        "(e.g. export a container's filesystem and 'weft image import' it as one layer)",
    );
  }
  const res = await execTool(
    "mount",
    ["-t", "overlay", "overlay", "-o", shorter, target],
    120_000,
    relative ? parent : undefined,
  );
  if (res.code !== 0) throw failed(res.stderr.trim());
}

/**
 * Unmounts target; succeeds if nothing is mounted there. A busy mount (a process still has its cwd
 * or files there) is detached lazily, so the caller can go on and the kernel frees it when unused.
 */
export async function unmount(target: string): Promise<void> {
  const path = resolve(target);
  const sys = weftSys();
  // Loop because a path can carry stacked mounts; each umount removes the top one.
  for (let i = 0; i < 8 && mountsAt(path).length > 0; i++) {
    try {
      sys.umount2(path, 0);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Not a mount point (any more), or gone.
      if (code === "EINVAL" || code === "ENOENT") return;
      if (code !== "EBUSY")
        throw new ImageError("MOUNT_FAILED", `unmounting ${path} failed: ${(err as Error).message}`);
      try {
        sys.umount2(path, MNT_DETACH);
      } catch (lazy) {
        throw new ImageError("MOUNT_FAILED", `lazy unmount of ${path} failed: ${(lazy as Error).message}`);
      }
    }
  }
}
