// Writing into a container (PUT /containers/ID/archive, `weft cp ... CONTAINER:PATH`): a tar unpacked
// into a directory of the container. Every entry's parent is resolved inside the container (a
// symlink in the image or put there by the app never leads to the host), an entry is never written
// through an existing link (the old one is removed first; files are opened O_NOFOLLOW|O_EXCL), and
// an entry whose name leads out of the directory ("../x") is refused, as Docker's breakout check.
// Owners are the container's root unless the caller keeps the archive's (docker cp -a); both are
// mapped to host ids under --userns=auto.
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { posix } from "node:path";
import { RuntimeError } from "../errors";
import { weftSys } from "../sys/native";
import { type ContainerFs, pathNotFound } from "./container-fs";
import { readTar, type TarEntry, TarFormatError } from "./tar";

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory or the reverse (Docker's noOverwriteDirNonDir). */
  noOverwriteDirNonDir?: boolean;
  /** Keep the archive's uid/gid (docker cp -a); default: the container's root owns what is written. */
  copyUidGid?: boolean;
  /** Who owns what is written when the archive's ids are not kept (host ids; default the container's root). */
  owner?: { uid: number; gid: number };
  /** Renames the archive's top entry `from` (and what is under it) to `to`: a copy given a new name. */
  rename?: { from: string; to: string };
  /**
   * Every entry stays under the directory even through symlinks the archive made (for the host's
   * side of a copy, where a container's archive could hold "x -> /etc" and then "x/cron.d/job").
   * Inside a container, links resolve inside it anyway and may lead elsewhere in it, as with Docker.
   */
  confine?: boolean;
}

export interface ExtractResult {
  entries: number;
  bytes: number;
}

function invalid(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}

/** Unpacks `tar` into the existing directory `dir` of the container. */
export async function extractInto(
  fs: ContainerFs,
  dir: string,
  tar: AsyncIterable<Buffer> | Iterable<Buffer>,
  o: ExtractOptions = {},
): Promise<ExtractResult> {
  const dest = fs.resolve(dir, true);
  if (!dest.stat) throw pathNotFound(dir, fs.name);
  if (!dest.stat.isDirectory())
    throw invalid(`${dir} in ${fs.name} is not a directory; copy into a directory`);
  const result: ExtractResult = { entries: 0, bytes: 0 };
  const dirTimes: Array<{ path: string; mtime: number }> = [];
  try {
    for await (const { entry, body } of readTar(tar)) {
      const name = o.rename ? renamed(entry.name, o.rename.from, o.rename.to) : entry.name;
      if (name === ".") continue; // the destination itself: its owner and mode stay
      const target = posix.normalize(posix.join(dest.path, name));
      if (
        name.startsWith("../") ||
        name === ".." ||
        !target.startsWith(dest.path === "/" ? "/" : `${dest.path}/`)
      )
        throw invalid(`the archive's entry "${name}" leads out of ${dir}; nothing after it was copied`);
      const owner = { uid: o.owner?.uid ?? fs.hostUid(0), gid: o.owner?.gid ?? fs.hostGid(0) };
      const parent = ensureParent(fs, posix.dirname(target), owner, o.confine ? dest.path : undefined);
      const path = posix.join(parent, posix.basename(target));
      fs.checkWritable(path);
      const existing = fs.resolve(path, false).stat;
      const uid = o.copyUidGid ? fs.hostUid(entry.uid) : owner.uid;
      const gid = o.copyUidGid ? fs.hostGid(entry.gid) : owner.gid;
      result.entries++;
      if (entry.type === "dir") {
        if (existing && !existing.isDirectory()) {
          if (o.noOverwriteDirNonDir)
            throw invalid(`cannot overwrite non-directory ${path} with a directory`);
          fs.onHost(path, (h) => unlinkSync(h));
        }
        fs.onHost(path, (h) => {
          if (!existing?.isDirectory()) mkdirSync(h, { mode: 0o700 });
          setDirectory(h, uid, gid, entry.mode);
        });
        dirTimes.push({ path, mtime: entry.mtime });
        continue;
      }
      if (existing) {
        if (existing.isDirectory()) {
          if (o.noOverwriteDirNonDir)
            throw invalid(`cannot overwrite directory ${path} with a non-directory`);
          fs.onHost(path, (h) => rmSync(h, { recursive: true }));
        } else fs.onHost(path, (h) => unlinkSync(h));
      }
      if (entry.type === "symlink") {
        fs.onHost(path, (h) => {
          symlinkSync(entry.linkname, h);
          lchownSync(h, uid, gid);
          lutimesSync(h, entry.mtime, entry.mtime);
        });
      } else if (entry.type === "char" || entry.type === "block" || entry.type === "fifo") {
        // Made as docker cp makes them; the container's device cgroup still decides what it may open.
        fs.onHost(path, (h) => {
          makeNode(h, path, entry);
          lchownSync(h, uid, gid);
          lutimesSync(h, entry.mtime, entry.mtime);
        });
      } else if (entry.type === "hardlink") {
        const linked = posix.normalize(posix.join(dest.path, entry.linkname));
        if (!linked.startsWith(dest.path === "/" ? "/" : `${dest.path}/`))
          throw invalid(`the archive's hard link "${name}" points out of ${dir}`);
        const source = fs.resolve(linked, false);
        if (o.confine && !under(source.path, dest.path))
          throw invalid(`the archive's hard link "${name}" points out of ${dir} through a symlink`);
        if (!source.stat)
          throw invalid(
            `the archive's hard link "${name}" points to ${entry.linkname}, which it does not hold`,
          );
        fs.onHost(source.path, (from) => fs.onHost(path, (to) => linkSync(from, to)));
      } else {
        // Opened here, written after: the body arrives asynchronously, the descriptor stays the file.
        const fd = fs.onHost(path, (h) =>
          openSync(
            h,
            constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
            0o600,
          ),
        );
        result.bytes += await writeFile(fd, body, entry, uid, gid);
      }
    }
  } catch (err) {
    if (err instanceof TarFormatError) throw invalid(`${err.message}; what came before it was copied`);
    throw err;
  }
  // Last, so that writing into a directory did not move its time again.
  for (const d of dirTimes.reverse()) fs.onHost(d.path, (h) => lutimesSync(h, d.mtime, d.mtime));
  return result;
}

/** `name` with its leading `from` (a top entry; "." for a directory's contents) replaced by `to`. */
export function renamed(name: string, from: string, to: string): string {
  if (from === ".") return name === "." ? to : `${to}/${name}`;
  if (name === from) return to;
  return name.startsWith(`${from}/`) ? `${to}${name.slice(from.length)}` : name;
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/**
 * The resolved path of directory `dir`, made (owned by `owner`) if missing; with `within`, refused
 * when a symlink on the way leads out of that directory.
 */
function ensureParent(
  fs: ContainerFs,
  dir: string,
  owner: { uid: number; gid: number },
  within: string | undefined,
): string {
  const at = fs.resolve(dir, true);
  if (within !== undefined && !under(at.path, within))
    throw invalid(
      `the archive leads out of ${within} through a symlink at ${dir}; nothing after it was copied`,
    );
  if (at.stat) {
    if (!at.stat.isDirectory()) throw invalid(`${dir} in ${fs.name} is not a directory`);
    return at.path;
  }
  const parent = ensureParent(fs, posix.dirname(at.path), owner, within);
  const path = posix.join(parent, posix.basename(at.path));
  fs.checkWritable(path);
  fs.onHost(path, (h) => {
    mkdirSync(h, { mode: 0o700 });
    setDirectory(h, owner.uid, owner.gid, 0o755);
  });
  return path;
}

/**
 * A directory's owner and mode, set on a descriptor opened without following a symlink: chmod by
 * name would follow one an app put there meanwhile.
 */
function setDirectory(host: string, uid: number, gid: number, mode: number): void {
  const fd = openSync(host, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fchownSync(fd, uid, gid);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/** The file type bits mknod takes for an archive's special entries. */
const NODE_TYPE: Partial<Record<TarEntry["type"], number>> = {
  char: constants.S_IFCHR,
  block: constants.S_IFBLK,
  fifo: constants.S_IFIFO,
};

/** A device node or FIFO at `host` (the container path `path`, for messages). */
function makeNode(host: string, path: string, entry: TarEntry): void {
  try {
    weftSys().mknod(
      host,
      (NODE_TYPE[entry.type] ?? 0) | (entry.mode & 0o777),
      entry.devmajor,
      entry.devminor,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") throw err;
    throw Object.assign(
      new RuntimeError(
        "INVALID_ARGUMENT",
        `cannot make the device node ${path}: only root may; copy as root or leave it out of the archive`,
      ),
      { status: 403 },
    );
  }
}

/** Writes an entry's body to `fd` (which it closes), then its owner, mode and time. */
async function writeFile(
  fd: number,
  body: AsyncIterable<Buffer>,
  entry: TarEntry,
  uid: number,
  gid: number,
): Promise<number> {
  let bytes = 0;
  try {
    for await (const chunk of body) {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      bytes += chunk.length;
    }
    fchownSync(fd, uid, gid);
    // After chown, which clears setuid and setgid.
    fchmodSync(fd, entry.mode);
    // On the descriptor: another copy to the same path may have replaced the name meanwhile.
    futimesSync(fd, entry.mtime, entry.mtime);
  } finally {
    closeSync(fd);
  }
  return bytes;
}
