// Docker's copy-up for named volumes: a new, empty volume mounted where the image has files starts
// out with a copy of them (and the directory's owner and mode), so `-v data:/var/lib/app` on an image
// that ships /var/lib/app works as under Docker. A volume that already holds anything is left alone.
import { execFile } from "node:child_process";
import { chmodSync, chownSync, lstatSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { join, posix } from "node:path";
import { VolumeError } from "./errors";

export type SeedResult = "seeded" | "not-empty" | "nothing-in-image";

/**
 * Copies what `rootfs` (the container's merged overlay, or an unpacked image) holds at `destination`
 * into the volume directory `mountpoint` if the volume is empty; otherwise does nothing. Owners, modes,
 * timestamps, symlinks, hard links, device nodes and xattrs are kept (GNU `cp -a --preserve=all`).
 * Symlinks in the image's path are followed inside `rootfs`, never out of it. On failure the volume
 * is emptied again (it was empty) and VOLUME_FAILED names the cause.
 */
export async function seedVolume(
  mountpoint: string,
  rootfs: string,
  destination: string,
): Promise<SeedResult> {
  if (readdirSync(mountpoint).length > 0) return "not-empty";
  const source = resolveInRoot(rootfs, destination);
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(source);
  } catch {
    return "nothing-in-image";
  }
  if (!st.isDirectory()) return "nothing-in-image";
  try {
    if (readdirSync(source).length === 0) {
      // Nothing to copy, but the mount point keeps the image's owner and mode (as Docker's copyOwnership).
      chownSync(mountpoint, st.uid, st.gid);
      chmodSync(mountpoint, st.mode & 0o7777);
      return "seeded";
    }
    await copyTree(`${source}/.`, mountpoint);
    return "seeded";
  } catch (err) {
    for (const name of readdirSync(mountpoint))
      rmSync(join(mountpoint, name), { recursive: true, force: true });
    throw new VolumeError(
      "VOLUME_FAILED",
      `copying the image's ${destination} into the new volume at ${mountpoint} failed: ${(err as Error).message}; check free space on the state directory's filesystem`,
    );
  }
}

function copyTree(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // One process for the whole tree: GNU cp keeps xattrs (file capabilities too), which Node cannot.
    execFile(
      "cp",
      ["-a", "--preserve=all", "--", from, `${to}/`],
      { maxBuffer: 1 << 20 },
      (err, _out, stderr) => {
        if (err) reject(new Error(stderr.trim() || err.message));
        else resolve();
      },
    );
  });
}

/**
 * The host path of `path` as seen inside `root`: each symlink on the way is resolved as the container
 * would (an absolute target starts again at `root`, ".." stops at `root`). The last component is not
 * followed when it is not a symlink; a missing component ends the walk (the rest is appended).
 */
export function resolveInRoot(root: string, path: string): string {
  const todo = posix.normalize(path).split("/").filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift()!;
    if (part === "." || part === "") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let target: string | undefined;
    try {
      if (lstatSync(host).isSymbolicLink()) target = readlinkSync(host);
    } catch {
      return join(root, ...done, part, ...todo);
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > 40)
      throw new VolumeError("VOLUME_FAILED", `too many symlinks under ${root} resolving ${path}`);
    if (target.startsWith("/")) done.length = 0;
    todo.unshift(...target.split("/").filter(Boolean));
  }
  return join(root, ...done);
}
