// A container's files as the host reaches them, for `weft cp`: its root (the overlay the engine
// mounted, there whether the app runs or not) with its volumes and bind mounts laid over it, as
// Docker's daemon sees a container for `docker cp`. Paths are resolved as the container would
// resolve them: every symlink stays inside the container (an absolute target starts again at its
// root, ".." stops there), and a path under a mount's destination is in the mount's source.
// tmpfs mounts and /proc are not here: they exist only inside the running container; a copy into
// or out of them is refused (Docker's silently lands under the mount).
// The host reaches a resolved path through onHost(), which opens its directory with openat2 and no
// symlink allowed: a running app that swaps a directory on the path for a symlink between the
// resolution and the write (CVE-2018-15664 in Docker) makes the copy fail, never reach the host.
import { closeSync, lstatSync, readlinkSync, type Stats } from "node:fs";
import { join, posix } from "node:path";
import { RuntimeError } from "../errors";
import { weftSys } from "../sys/native";

export interface FsMount {
  /** Absolute path in the container. */
  destination: string;
  /** The host path mounted there (a volume's data directory, a bind's source, an /etc file). */
  source: string;
  readonly: boolean;
}

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface ContainerFsOptions {
  /** For messages: the container's name. */
  name: string;
  /** The host directory that is the container's "/". */
  rootfs: string;
  mounts: FsMount[];
  /** --read-only: only the mounts that are not read-only take writes. */
  readOnlyRoot: boolean;
  /** --userns=auto: container ids and the host ids they are. Absent: the same ids. */
  uidMap?: IdMapping[];
  gidMap?: IdMapping[];
  /**
   * What is mounted inside the container over its files and not reached from the host (/proc,
   * /sys, /dev, --tmpfs): a copy there is refused, where Docker's would silently land under the mount.
   */
  hidden?: HiddenMount[];
}

export interface HiddenMount {
  destination: string;
  /** "the kernel's /proc", "a tmpfs (--tmpfs)", for messages. */
  what: string;
}

/** What runc mounts in every container, over whatever the image has there. */
export const RUNTIME_MOUNTS: HiddenMount[] = [
  { destination: "/proc", what: "the kernel's process filesystem" },
  { destination: "/sys", what: "the kernel's sysfs" },
  { destination: "/dev", what: "a tmpfs the runtime makes at each start" },
];

export interface ResolvedPath {
  /** The path in the container once its symlinks are resolved (the last one only when followed). */
  path: string;
  /** Where that is on the host, for messages and tests: files are reached through onHost(). */
  host: string;
  /** lstat of host; undefined when nothing is there. */
  stat?: Stats;
}

const MAX_LINKS = 40;
/** The id a file owned by an id outside the container's range shows as (the kernel's overflow id). */
const OVERFLOW_ID = 65534;

export class ContainerFs {
  /** Longest destination first, so /data/cache wins over /data. */
  private readonly mounts: FsMount[];

  constructor(readonly o: ContainerFsOptions) {
    this.mounts = [...o.mounts].sort((a, b) => b.destination.length - a.destination.length);
  }

  get name(): string {
    return this.o.name;
  }

  /** The host path of an already-resolved container path, and the mount it is in. */
  hostOf(path: string): { host: string; mount?: FsMount } {
    const { root, rel, mount } = this.place(path);
    return { host: rel === "" ? root : join(root, rel), mount };
  }

  /**
   * Calls `fn` with a host path for the resolved container path `path` on which nothing can lead
   * elsewhere: its directory is opened beneath the mount's source (or the root) with no symlink on
   * the way, and `fn` gets /proc/self/fd/FD/NAME. The last component is NAME itself, so `fn` must
   * not follow it (lstat, readlink, unlink, O_NOFOLLOW opens, lchown, lutimes). A directory on the
   * path that became a symlink since the resolution is an error; a missing one is ENOENT as usual.
   */
  onHost<T>(path: string, fn: (host: string) => T): T {
    const { root, rel } = this.place(path);
    if (rel === "") return fn(root);
    const slash = rel.lastIndexOf("/");
    let fd: number;
    try {
      fd = weftSys().openBeneath(root, slash < 0 ? "" : rel.slice(0, slash));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ELOOP" && code !== "EXDEV") throw err;
      throw new RuntimeError(
        "INTERNAL",
        `a directory on the path to ${path} in ${this.name} was replaced by a symlink while it was copied; nothing was written through it, copy again`,
      );
    }
    try {
      return fn(`/proc/self/fd/${fd}/${rel.slice(slash + 1)}`);
    } finally {
      closeSync(fd);
    }
  }

  /** What a resolved path is under on the host (a mount's source or the root), and the rest of it. */
  private place(path: string): { root: string; rel: string; mount?: FsMount } {
    for (const m of this.mounts) {
      if (path === m.destination) return { root: m.source, rel: "", mount: m };
      if (path.startsWith(`${m.destination}/`))
        return { root: m.source, rel: path.slice(m.destination.length + 1), mount: m };
    }
    return { root: this.o.rootfs, rel: posix.normalize(path).replace(/^\/+|\/+$/g, "") };
  }

  /**
   * Resolves `path` (absolute or relative to "/") inside the container. The last component is
   * followed only with `followLast`. A missing component ends the walk: the rest is appended, and
   * `stat` is undefined.
   */
  resolve(path: string, followLast: boolean): ResolvedPath {
    const todo = path.split("/").filter((p) => p !== "" && p !== ".");
    const done: string[] = [];
    let links = 0;
    while (todo.length > 0) {
      const part = todo.shift() as string;
      if (part === "..") {
        done.pop();
        continue;
      }
      const here = `/${[...done, part].join("/")}`;
      let st: Stats;
      try {
        st = this.onHost(here, (h) => lstatSync(h));
      } catch (err) {
        if (err instanceof RuntimeError) throw err;
        // Lexical from here on: nothing exists below to resolve, and "/.." is "/".
        const missing = posix.join(here, ...todo);
        return { path: missing, host: this.hostOf(missing).host };
      }
      if (st.isSymbolicLink() && (todo.length > 0 || followLast)) {
        if (++links > MAX_LINKS)
          throw new RuntimeError("INVALID_ARGUMENT", `too many levels of symbolic links in ${path}`);
        const target = this.onHost(here, (h) => readlinkSync(h));
        if (target.startsWith("/")) done.length = 0;
        todo.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
        continue;
      }
      done.push(part);
      if (todo.length === 0) return { path: here, host: this.hostOf(here).host, stat: st };
    }
    const path0 = `/${done.join("/")}`;
    return { path: path0, host: this.hostOf(path0).host, stat: this.onHost(path0, (h) => lstatSync(h)) };
  }

  /**
   * Throws when `path` (resolved) is under a mount made inside the container: what the host copies
   * there is hidden by it (into), or is not there at all (out of).
   */
  checkReachable(path: string, direction: "into" | "out of"): void {
    const hidden = (this.o.hidden ?? []).find(
      (h) => path === h.destination || path.startsWith(`${h.destination}/`),
    );
    if (!hidden) return;
    // A volume or bind mounted under it (/dev/data) is the host's to reach, as any mount.
    const mount = this.hostOf(path).mount;
    if (mount && mount.destination.length > hidden.destination.length) return;
    const how =
      direction === "into"
        ? `what is copied there would be hidden under it; copy elsewhere, or through the app: weft exec -i ${this.name} sh -c 'cat > ${path}' < FILE`
        : `it is not among its files; read it through the app: weft exec ${this.name} cat ${path}`;
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `cannot copy ${direction} ${path} in ${this.name}: ${hidden.destination} is ${hidden.what} inside the container, and ${how}`,
    );
  }

  /** Throws when the container may not be written at `path` (a resolved path): a read-only mount or root. */
  checkWritable(path: string): void {
    this.checkReachable(path, "into");
    const { mount } = this.hostOf(path);
    if (mount?.readonly)
      throw readOnly(`${mount.destination} is mounted read-only in ${this.name}; copy to another path`);
    if (!mount && this.o.readOnlyRoot)
      throw readOnly(
        `${this.name}'s root filesystem is read-only (--read-only); copy into one of its volumes instead`,
      );
  }

  /** The host uid of a container uid (the same without a user namespace). */
  hostUid(id: number): number {
    return toHost(this.o.uidMap, id);
  }

  hostGid(id: number): number {
    return toHost(this.o.gidMap, id);
  }

  /** The container uid of a host uid (65534 for one outside the container's range). */
  containerUid(id: number): number {
    return toContainer(this.o.uidMap, id);
  }

  containerGid(id: number): number {
    return toContainer(this.o.gidMap, id);
  }
}

function toHost(map: IdMapping[] | undefined, id: number): number {
  if (!map) return id;
  for (const m of map)
    if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + id - m.containerID;
  return OVERFLOW_ID;
}

function toContainer(map: IdMapping[] | undefined, id: number): number {
  if (!map) return id;
  for (const m of map) if (id >= m.hostID && id < m.hostID + m.size) return m.containerID + id - m.hostID;
  return OVERFLOW_ID;
}

function readOnly(message: string): RuntimeError {
  return Object.assign(new RuntimeError("INVALID_ARGUMENT", message), { status: 403 });
}

/** Docker's 404 for a path that is not in the container. */
export function pathNotFound(path: string, container: string): RuntimeError {
  return Object.assign(
    new RuntimeError("INVALID_ARGUMENT", `Could not find the file ${path} in container ${container}`),
    {
      status: 404,
    },
  );
}
