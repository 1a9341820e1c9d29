// `weft diff` (Docker's GET /containers/ID/changes): what a container changed in its file system,
// read from its overlay's upper directory. A whiteout (a 0/0 character device) is a deletion; a path
// the image's layers also hold is changed, one they do not is added; a directory is reported changed
// only when something under it is, as its own time moves whenever an entry is made in it. An opaque
// directory (trusted.overlay.opaque, which overlayfs sets on a directory deleted and made again)
// hides all the image had under it: what the image had there and the upper does not is deleted. What
// the engine and runc make there themselves (mount points, /proc, /sys, /dev) is not the app's doing
// and is left out, as Docker's init layer leaves it out.
import { lstatSync, readdirSync, type Stats } from "node:fs";
import { join, posix } from "node:path";
import { weftSys } from "../sys/native";

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
  walk({ upper, lowers, skipped, out }, "/", true, false);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

interface Walk {
  upper: string;
  lowers: string[];
  skipped: Set<string>;
  out: Change[];
}

/**
 * Adds the changes under directory `dir` (a container path) to `w.out`; true when there were any.
 * `dirInImage`: the image has `dir` (else nothing under it is the image's, and no layer is read).
 * `hiding`: `dir` or a directory above it is opaque, so the image's entries here are gone unless
 * the upper has them again.
 */
function walk(w: Walk, dir: string, dirInImage: boolean, hiding: boolean): boolean {
  let any = false;
  const names = readdirSync(join(w.upper, dir));
  if (hiding && dirInImage) {
    const here = new Set(names);
    for (const name of imageEntries(w.lowers, dir)) {
      const path = posix.join(dir, name);
      if (here.has(name) || w.skipped.has(path)) continue;
      w.out.push({ path, kind: 2 });
      any = true;
    }
  }
  for (const name of names) {
    const path = posix.join(dir, name);
    if (w.skipped.has(path)) continue;
    const st = lstatSync(join(w.upper, path));
    if (isWhiteout(st)) {
      // Under an opaque directory, only a whiteout of what the image has is a deletion.
      if (!hiding || imageHas(w.lowers, path)) {
        w.out.push({ path, kind: 2 });
        any = true;
      }
      continue;
    }
    const inImage = dirInImage && imageHas(w.lowers, path);
    if (st.isDirectory()) {
      const before = w.out.length;
      const opaque = inImage && isOpaque(join(w.upper, path));
      const inner = walk(w, path, inImage, hiding || opaque);
      if (!inImage) w.out.splice(before, 0, { path, kind: 1 });
      else if (inner) w.out.push({ path, kind: 0 });
      any ||= inner || !inImage;
      continue;
    }
    w.out.push({ path, kind: inImage ? 0 : 1 });
    any = true;
  }
  return any;
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function isOpaque(dir: string): boolean {
  return weftSys().lgetxattr(dir, "trusted.overlay.opaque")?.toString() === "y";
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Whether `layer` hides what the layers below it have at `path`: a directory on the way (or `path`
 * itself) is opaque there, or something on the way is not a directory (a file, a whiteout).
 */
function hidesBelow(layer: string, path: string): boolean {
  let at = layer;
  for (const part of path.split("/").filter((p) => p !== "")) {
    at = join(at, part);
    const st = lstatOrUndefined(at);
    if (!st) return false;
    if (!st.isDirectory()) return true;
    if (isOpaque(at)) return true;
  }
  return false;
}

/** Whether the image has `path`: the topmost layer that mentions it decides (a whiteout hides it). */
function imageHas(lowers: string[], path: string): boolean {
  for (const layer of lowers) {
    const st = lstatOrUndefined(join(layer, path));
    if (st) return !isWhiteout(st);
    if (hidesBelow(layer, posix.dirname(path))) return false;
  }
  return false;
}

/** The names the image shows in its directory `dir`, the layers merged as overlayfs merges them. */
function imageEntries(lowers: string[], dir: string): string[] {
  const shown = new Set<string>();
  const decided = new Set<string>();
  for (const layer of lowers) {
    const st = lstatOrUndefined(join(layer, dir));
    if (st?.isDirectory()) {
      for (const name of readdirSync(join(layer, dir))) {
        if (decided.has(name)) continue;
        decided.add(name);
        const entry = lstatSync(join(layer, dir, name));
        if (!isWhiteout(entry)) shown.add(name);
      }
    }
    if (st && !st.isDirectory()) break;
    if (hidesBelow(layer, dir)) break;
  }
  return [...shown];
}

/** Docker's letters for `docker diff`. */
export function changeLetter(kind: ChangeKind): string {
  return kind === 0 ? "C" : kind === 1 ? "A" : "D";
}
