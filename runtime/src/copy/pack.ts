// Reading out of a container (GET /containers/ID/archive, `weft cp CONTAINER:PATH ...`): what is at a
// path, as Docker's X-Docker-Container-Path-Stat header says it, and a tar of it. Names in the tar
// start with the path's base name ("app.conf", "logs/..."); a path ending in "/." gives the
// directory's contents as "./...", so a client can rename the top (Docker's rebase).
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  type Stats,
} from "node:fs";
import { posix } from "node:path";
import { RuntimeError } from "../errors";
import { weftSys } from "../sys/native";
import { type ContainerFs, pathNotFound, type ResolvedPath } from "./container-fs";
import { END_OF_ARCHIVE, type EntryType, entryHeader, padding, type TarEntry } from "./tar";

/** Docker's containerPathStat: mode is Go's os.FileMode (type bits high, permissions low). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** Go's os.FileMode type and special bits. */
const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
};

export function goFileMode(st: Stats): number {
  let mode = st.mode & 0o777;
  if (st.isDirectory()) mode += GO_MODE.dir;
  else if (st.isSymbolicLink()) mode += GO_MODE.symlink;
  else if (st.isBlockDevice()) mode += GO_MODE.device;
  else if (st.isCharacterDevice()) mode += GO_MODE.device + GO_MODE.charDevice;
  else if (st.isFIFO()) mode += GO_MODE.namedPipe;
  else if (st.isSocket()) mode += GO_MODE.socket;
  if (st.mode & 0o4000) mode += GO_MODE.setuid;
  if (st.mode & 0o2000) mode += GO_MODE.setgid;
  if (st.mode & 0o1000) mode += GO_MODE.sticky;
  return mode;
}

/** Whether a Go FileMode is a directory (for clients reading PathStat). */
export function isDirMode(mode: number): boolean {
  return mode >= GO_MODE.dir;
}

export function isSymlinkMode(mode: number): boolean {
  return Math.floor(mode / GO_MODE.symlink) % 2 === 1;
}

/** What is at `path` in the container, the last symlink not followed (its target is linkTarget). */
export function statPath(fs: ContainerFs, path: string): PathStat {
  return statAt(fs, path).stat;
}

/** statPath, and the resolved path it describes (`at`: `path` resolved already). */
function statAt(
  fs: ContainerFs,
  path: string,
  at: ResolvedPath = fs.resolve(path, false),
): { stat: PathStat; at: ResolvedPath } {
  if (!at.stat) throw pathNotFound(path, fs.name);
  const linkTarget = at.stat.isSymbolicLink() ? fs.resolve(path, true).path : "";
  const stat = {
    name: baseName(path),
    size: at.stat.size,
    mode: goFileMode(at.stat),
    mtime: at.stat.mtime.toISOString(),
    linkTarget,
  };
  return { stat, at };
}

/** The name the top of a path's archive has: its base name, or "." for "DIR/." (the contents). */
function baseName(path: string): string {
  if (path === "." || path.endsWith("/.")) return ".";
  const clean = posix.normalize(`/${path}`).replace(/\/+$/, "");
  return clean === "" ? "/" : posix.basename(clean);
}

/**
 * The tar of `path` (its last symlink archived as a link, not followed), and its stat. The top
 * entry is named `as` when given (a copy under another name), else the path's base name.
 */
export function packPath(
  fs: ContainerFs,
  path: string,
  as?: string,
): { stat: PathStat; tar: AsyncGenerator<Buffer> } {
  // Refused here, not in statPath: a copy into /dev stats it first (HEAD, where no message shows).
  const at = fs.resolve(path, false);
  fs.checkReachable(at.path, "out of");
  const { stat } = statAt(fs, path, at);
  const top = as ?? (stat.name === "/" ? "." : stat.name);
  return { stat, tar: packTree(fs, at.path, top) };
}

const CHUNK = 64 * 1024;

/**
 * The whole file system of a container as `docker export` writes it: the root's entries under their
 * own names ("bin/", "etc/passwd"), no entry for the root itself. Mounts are left to the caller's fs.
 */
export function packRoot(fs: ContainerFs): AsyncGenerator<Buffer> {
  return packTree(fs, "/", "");
}

/**
 * An overlay upper directory (`fs`'s root) as an image layer, as `docker commit` writes one: its
 * whiteouts (0/0 character devices) become `.wh.NAME` files and an opaque directory gets a
 * `.wh..wh..opq` entry (the OCI forms, which an import turns back into overlay's). Paths in `skip`
 * are left out with what is under them (mount points, /proc, /sys, /dev).
 */
export function packLayer(fs: ContainerFs, skip: ReadonlySet<string>): AsyncGenerator<Buffer> {
  return packTree(fs, "/", "", { skip, overlay: true });
}

interface TreeOptions {
  skip?: ReadonlySet<string>;
  /** Overlay's whiteouts and opaque directories written in the OCI forms. */
  overlay?: boolean;
}

/** `top` "" archives a directory's entries under their own names, without one for the directory. */
async function* packTree(
  fs: ContainerFs,
  path: string,
  top: string,
  o: TreeOptions = {},
): AsyncGenerator<Buffer> {
  const hardLinks = new Map<string, string>();
  // Depth first, a directory's entries sorted, so the same tree always gives the same archive.
  const stack: Array<{ path: string; name: string }> =
    top === ""
      ? fs
          .onHost(path, (h) => readdirSync(h))
          .sort()
          .reverse()
          .map((child) => ({ path: posix.join(path, child), name: child }))
      : [{ path, name: top }];
  while (stack.length > 0) {
    const { path: here, name } = stack.pop() as { path: string; name: string };
    if (o.skip?.has(here)) continue;
    let st: Stats;
    try {
      st = fs.onHost(here, (h) => lstatSync(h));
    } catch {
      continue; // removed (or its directory swapped for a symlink) while the archive was made
    }
    const type = entryType(st);
    if (!type) continue; // sockets: tar leaves them out too
    const entry: TarEntry = {
      name,
      type,
      mode: st.mode & 0o7777,
      uid: fs.containerUid(st.uid),
      gid: fs.containerGid(st.gid),
      size: 0,
      mtime: Math.floor(st.mtimeMs / 1000),
      linkname: "",
      devmajor: type === "char" || type === "block" ? Math.floor(st.rdev / 256) & 0xfff : 0,
      devminor: type === "char" || type === "block" ? (st.rdev & 0xff) | ((st.rdev >>> 12) & 0xfff00) : 0,
    };
    if (o.overlay && type === "char" && st.rdev === 0) {
      yield entryHeader({ ...entry, type: "file", name: whiteoutName(name), mode: 0 });
      continue;
    }
    if (type === "symlink") entry.linkname = fs.onHost(here, (h) => readlinkSync(h));
    if (type === "file" && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = hardLinks.get(key);
      if (first !== undefined) {
        entry.type = "hardlink";
        entry.linkname = first;
      } else hardLinks.set(key, name);
    }
    if (entry.type !== "file") {
      yield entryHeader(entry);
      if (type === "dir" && o.overlay && isOpaque(fs, here))
        yield entryHeader({ ...entry, type: "file", name: `${name}/${WHITEOUT}${WHITEOUT}.opq`, mode: 0 });
      if (type === "dir") {
        const children = fs
          .onHost(here, (h) => readdirSync(h))
          .sort()
          .reverse();
        for (const child of children)
          stack.push({
            path: posix.join(here, child),
            name: name === "." ? `./${child}` : `${name}/${child}`,
          });
      }
      continue;
    }
    // O_NONBLOCK: a file an app swapped for a FIFO since the lstat would otherwise block this open,
    // and the daemon's one thread with it. fileEntry's fstat then says what was really opened.
    const fd = fs.onHost(here, (h) =>
      openSync(h, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK),
    );
    yield* fileEntry(fd, entry, st.size);
  }
  yield END_OF_ARCHIVE;
}

/**
 * A file's header and content from `fd`, which it closes; the size is the one stat gave (a file that
 * shrinks meanwhile is padded).
 */
async function* fileEntry(fd: number, entry: TarEntry, size: number): AsyncGenerator<Buffer> {
  try {
    if (!fstatSync(fd).isFile())
      throw new RuntimeError("INTERNAL", `${entry.name} changed while it was copied`);
    yield entryHeader({ ...entry, size });
    let left = size;
    while (left > 0) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) {
        chunk.fill(0);
        left -= chunk.length;
        yield chunk;
        continue;
      }
      left -= n;
      yield chunk.subarray(0, n);
    }
    yield padding(size);
  } finally {
    closeSync(fd);
  }
}

/** The OCI whiteout prefix: `.wh.NAME` deletes NAME; `.wh..wh..opq` hides a directory's lower entries. */
const WHITEOUT = ".wh.";

/** "etc/group" -> "etc/.wh.group". */
function whiteoutName(name: string): string {
  const slash = name.lastIndexOf("/");
  return `${name.slice(0, slash + 1)}${WHITEOUT}${name.slice(slash + 1)}`;
}

function isOpaque(fs: ContainerFs, path: string): boolean {
  return fs.onHost(path, (h) => weftSys().lgetxattr(h, "trusted.overlay.opaque"))?.toString() === "y";
}

function entryType(st: Stats): EntryType | undefined {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  return undefined;
}
