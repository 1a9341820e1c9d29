// Writing into a container (PUT /containers/ID/archive, `weft cp ... CONTAINER:PATH`): a tar unpacked
// into a directory of the container. Every entry's parent is resolved inside the container (a
// symlink in the image or put there by the app never leads to the host), an entry is never written
// through an existing link (the old one is removed first; files are opened O_NOFOLLOW|O_EXCL), and
// an entry whose name leads out of the directory ("../x") is refused, as Docker's breakout check.
// Owners are the container's root unless the caller keeps the archive's (docker cp -a); both are
// mapped to host ids under --userns=auto.
import {
  chmodSync,
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
  utimesSync,
  writeSync,
} from "node:fs";
import { posix } from "node:path";
import { RuntimeError } from "../errors";
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
  /** Device nodes and FIFOs, which are not made in a container by cp. */
  skipped: string[];
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
  const result: ExtractResult = { entries: 0, bytes: 0, skipped: [] };
  const dirTimes: Array<{ host: string; mtime: number }> = [];
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
      const { host } = fs.hostOf(path);
      const existing = fs.resolve(path, false).stat;
      const uid = o.copyUidGid ? fs.hostUid(entry.uid) : owner.uid;
      const gid = o.copyUidGid ? fs.hostGid(entry.gid) : owner.gid;
      result.entries++;
      if (entry.type === "dir") {
        if (existing && !existing.isDirectory()) {
          if (o.noOverwriteDirNonDir)
            throw invalid(`cannot overwrite non-directory ${path} with a directory`);
          unlinkSync(host);
        }
        if (!existing?.isDirectory()) mkdirSync(host, { mode: 0o700 });
        lchownSync(host, uid, gid);
        chmodSync(host, entry.mode);
        dirTimes.push({ host, mtime: entry.mtime });
        continue;
      }
      if (entry.type === "char" || entry.type === "block" || entry.type === "fifo") {
        result.skipped.push(path);
        continue;
      }
      if (existing) {
        if (existing.isDirectory()) {
          if (o.noOverwriteDirNonDir)
            throw invalid(`cannot overwrite directory ${path} with a non-directory`);
          rmSync(host, { recursive: true });
        } else unlinkSync(host);
      }
      if (entry.type === "symlink") {
        symlinkSync(entry.linkname, host);
        lchownSync(host, uid, gid);
        lutimesSync(host, entry.mtime, entry.mtime);
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
        linkSync(source.host, host);
      } else {
        result.bytes += await writeFile(host, body, entry, uid, gid);
      }
    }
  } catch (err) {
    if (err instanceof TarFormatError) throw invalid(`${err.message}; what came before it was copied`);
    throw err;
  }
  // Last, so that writing into a directory did not move its time again.
  for (const d of dirTimes.reverse()) utimesSync(d.host, d.mtime, d.mtime);
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
  const { host } = fs.hostOf(path);
  mkdirSync(host, { mode: 0o755 });
  lchownSync(host, owner.uid, owner.gid);
  return path;
}

async function writeFile(
  host: string,
  body: AsyncIterable<Buffer>,
  entry: TarEntry,
  uid: number,
  gid: number,
): Promise<number> {
  const fd = openSync(
    host,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
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
