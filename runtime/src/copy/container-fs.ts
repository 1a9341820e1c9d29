// A container's files as the host reaches them, for `weft cp`: its root (the overlay the engine
// mounted, there whether the app runs or not) with its volumes and bind mounts laid over it, as
// Docker's daemon sees a container for `docker cp`. Paths are resolved as the container would
// resolve them: every symlink stays inside the container (an absolute target starts again at its
// root, ".." stops there), and a path under a mount's destination is in the mount's source.
// tmpfs mounts and /proc are not here: they exist only inside the running container (as for Docker).
import { lstatSync, readlinkSync, type Stats } from "node:fs";
import { join, posix } from "node:path";
import { RuntimeError } from "../errors";

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
}

export interface ResolvedPath {
  /** The path in the container once its symlinks are resolved (the last one only when followed). */
  path: string;
  /** Where that is on the host. */
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
    for (const m of this.mounts) {
      if (path === m.destination) return { host: m.source, mount: m };
      if (path.startsWith(`${m.destination}/`))
        return { host: join(m.source, path.slice(m.destination.length + 1)), mount: m };
    }
    return { host: join(this.o.rootfs, path) };
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
      const { host } = this.hostOf(here);
      let st: Stats;
      try {
        st = lstatSync(host);
      } catch {
        // Lexical from here on: nothing exists below to resolve, and "/.." is "/".
        const missing = posix.join(here, ...todo);
        return { path: missing, host: this.hostOf(missing).host };
      }
      if (st.isSymbolicLink() && (todo.length > 0 || followLast)) {
        if (++links > MAX_LINKS)
          throw new RuntimeError("INVALID_ARGUMENT", `too many levels of symbolic links in ${path}`);
        const target = readlinkSync(host);
        if (target.startsWith("/")) done.length = 0;
        todo.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
        continue;
      }
      done.push(part);
      if (todo.length === 0) return { path: here, host, stat: st };
    }
    const path0 = `/${done.join("/")}`;
    const { host } = this.hostOf(path0);
    return { path: path0, host, stat: lstatSync(host) };
  }

  /** Throws when the container may not be written at `path` (a resolved path): a read-only mount or root. */
  checkWritable(path: string): void {
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
