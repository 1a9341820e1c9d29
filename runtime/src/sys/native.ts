// The daemon's native addon (runtime/native/weftsys.c): posix_spawn, mount(2), umount2(2), a new
// network namespace and a workload's veth over rtnetlink, openat2(2), mknod(2), lgetxattr(2) and a
// terminal's size (TIOCSWINSZ),
// which Node does not offer (its
// child_process forks the whole daemon for every command it runs).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface WeftSys {
  /** Returns [pid, then per stdio entry the parent's end of its pipe or -1]. Throws with code ENOENT etc. */
  spawn(
    file: string,
    args: readonly string[],
    env: readonly string[] | null,
    cwd: string | null,
    stdio: readonly number[],
    detached: boolean,
    keepAlive: boolean,
    onExit: (code: number | null, signal: number | null) => void,
  ): number[];
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount2(target: string, flags: number): void;
  /** `ip netns add`: a new network namespace bind-mounted on path (DIR/NAME), with IPv6 off in it
   * (all, default) if asked, before it has any interface. Throws EEXIST, ... */
  createNetns(path: string, disableIpv6: boolean): void;
  /**
   * A workload's network over rtnetlink: a veth hostVeth (up, on bridge) whose peer is eth0 (with
   * mac) in the netns at netnsPath; inside, lo up, address/prefixLength on eth0, eth0 up and a
   * default route via gateway. Throws an Error naming the step (code EEXIST, ENETUNREACH, ...).
   */
  wireWorkload(
    netnsPath: string,
    hostVeth: string,
    bridge: string,
    mac: string,
    address: string,
    prefixLength: number,
    gateway: string,
  ): void;
  /**
   * The directory `rel` under the directory `root`, opened O_PATH by openat2 with no symlink and no
   * ".." allowed on the way (ELOOP, EXDEV); ENOENT/ENOTDIR when it is not there. The caller closes it.
   */
  openBeneath(root: string, rel: string): number;
  /** mknod(2): mode holds the type bits (S_IFCHR, S_IFBLK, S_IFIFO) and the permissions. */
  mknod(path: string, mode: number, major: number, minor: number): void;
  /** lgetxattr(2); null when the file has no such attribute. */
  lgetxattr(path: string, name: string): Buffer | null;
  /** TIOCSWINSZ on the terminal at ttyPath (a /dev/pts/N): its size; the kernel tells its
   * foreground process group (SIGWINCH). ENOTTY when it is not a terminal. */
  setWinsize(ttyPath: string, rows: number, cols: number): void;
}

let loaded: WeftSys | undefined;

/**
 * Loads weftsys.node: next to the bundle (dist/weft.cjs), else the build in runtime/native when
 * running from the sources. `npm ci` and `npm run build` build it.
 */
export function weftSys(): WeftSys {
  if (loaded) return loaded;
  // In the bundle import.meta.url is the bundle's own URL (defined so for weft.cjs).
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, "weftsys.node"),
    join(here, "..", "..", "native", "build", "Release", "weftsys.node"),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    throw new Error(
      `cannot find weftsys.node (looked in ${candidates.join(", ")}); run 'npm run build' to build it`,
    );
  }
  loaded = createRequire(import.meta.url)(file) as WeftSys;
  return loaded;
}
