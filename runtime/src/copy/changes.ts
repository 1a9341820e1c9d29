// `weft diff` (Docker's GET /containers/ID/changes): what a container changed in its file system,
// read from its overlay's upper directory. A whiteout (a 0/0 character device) is a deletion; a path
// the image's layers also hold is changed, one they do not is added; a directory is reported changed
// only when something under it is, as its own time moves whenever an entry is made in it. What the
// engine and runc make there themselves (mount points, /proc, /sys, /dev) is not the app's doing
// and is left out, as Docker's init layer leaves it out.
import { lstatSync, readdirSync, type Stats } from "node:fs";
import { join, posix } from "node:path";

/** Docker's kinds: 0 modified, 1 added, 2 deleted. */
export type ChangeKind = 0 | 1 | 2;

export interface Change {
  path: string;
  kind: ChangeKind;
}

/** Under these, everything is runc's or the kernel's. */
const RUNTIME_DIRS = ["/proc", "/sys", "/dev"];

/**
 * The changes in `upper` over `lowers` (the image's layer directories, top first), sorted by path.
 * `mountPoints` (volumes, binds, the /etc files) are left out with what is under them.
 */
export function containerChanges(upper: string, lowers: string[], mountPoints: string[]): Change[] {
  const skipped = new Set([...RUNTIME_DIRS, ...mountPoints]);
  const out: Change[] = [];
  walk(upper, "/", lowers, skipped, out);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Adds the changes under directory `dir` (a container path) to `out`; true when there were any. */
function walk(upper: string, dir: string, lowers: string[], skipped: Set<string>, out: Change[]): boolean {
  let any = false;
  for (const name of readdirSync(join(upper, dir))) {
    const path = posix.join(dir, name);
    if (skipped.has(path)) continue;
    const st = lstatSync(join(upper, path));
    if (isWhiteout(st)) {
      out.push({ path, kind: 2 });
      any = true;
      continue;
    }
    const inImage = inLowers(lowers, path);
    if (st.isDirectory()) {
      const before = out.length;
      const inner = walk(upper, path, lowers, skipped, out);
      if (!inImage) out.splice(before, 0, { path, kind: 1 });
      else if (inner) out.push({ path, kind: 0 });
      any ||= inner || !inImage;
      continue;
    }
    out.push({ path, kind: inImage ? 0 : 1 });
    any = true;
  }
  return any;
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Whether the image has `path`: the topmost layer that mentions it decides (a whiteout hides it). */
function inLowers(lowers: string[], path: string): boolean {
  for (const layer of lowers) {
    let st: Stats;
    try {
      st = lstatSync(join(layer, path));
    } catch {
      continue;
    }
    return !isWhiteout(st);
  }
  return false;
}

/** Docker's letters for `docker diff`. */
export function changeLetter(kind: ChangeKind): string {
  return kind === 0 ? "C" : kind === 1 ? "A" : "D";
}
