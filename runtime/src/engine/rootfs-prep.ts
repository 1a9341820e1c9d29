// Preparing a container's root before runc starts it: mount points and ownership that a
// --userns=auto container cannot make itself, without following the image's symlinks out of the root.
import { lstatSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { OciIdMapping } from "../oci/index";

/**
 * Makes the mount point of a bind in the container's writable layer (runc would otherwise try,
 * and fail on a --read-only root): a directory, or an empty file for a file bind.
 */
export function ensureMountPoint(rootfs: string, destination: string, directory: boolean): void {
  const target = join(rootfs, destination);
  if (lexists(target) || !insideRoot(rootfs, destination)) return;
  if (directory) {
    mkdirSync(target, { recursive: true, mode: 0o755 });
  } else {
    mkdirSync(join(target, ".."), { recursive: true, mode: 0o755 });
    writeFileSync(target, "", { mode: 0o644 });
  }
}

function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `path` (in the container) stays under the root on the host when resolved, i.e. no
 * symlink of the image on the way leads out (an absolute link resolves against the host's /).
 * Paths that do not are left to runc, which resolves them inside the root.
 */
export function insideRoot(rootfs: string, path: string): boolean {
  const root = realpathSync(rootfs);
  let probe = join(rootfs, path);
  while (!lexists(probe)) probe = dirname(probe);
  let real: string;
  try {
    real = realpathSync(probe);
  } catch {
    return false; // a dangling link
  }
  return real === root || real.startsWith(`${root}/`);
}

/** --userns=auto: container ids 0-65535 map to a host range of their own, picked from the id. */
export function usernsMappings(id: string): { uid: OciIdMapping[]; gid: OciIdMapping[] } {
  const slot = Number.parseInt(id.slice(0, 6), 16) % 1000;
  const map = [{ containerID: 0, hostID: 1_000_000 + slot * 65536, size: 65536 }];
  return { uid: map, gid: map };
}
