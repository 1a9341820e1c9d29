// Lays out what a spec adds to an image in a staging folder: directories, copied trees, host binaries
// with their shared libraries and links, inline files. Every write goes through place(), which never
// follows a symlink made by an earlier step, so a copied link such as "www/x -> /etc" cannot turn a
// later write into a write on the host.
import { spawnSync } from "node:child_process";
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  readdir,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { basename, join, posix, sep } from "node:path";
import { BuildError } from "./errors";
import { sharedLibraries } from "./ldd";
import type { BinaryItem, BuildSpec, CopyItem } from "./spec";

/** Fills `stage` (an existing empty folder) with the spec's additions. */
export async function stageAdditions(spec: BuildSpec, specDir: string, stage: string): Promise<void> {
  for (const d of spec.dirs) await makeDir(stage, d.path, d.mode);
  for (const c of spec.copy) await copyItem(stage, specDir, c);
  for (const b of spec.binaries) await addBinary(stage, b);
  for (const f of spec.files) {
    const target = await place(stage, f.dest);
    await writeFile(target, f.content);
    await chmod(target, f.mode);
  }
  // Again at the end: a later copy into /tmp must not leave it without its sticky bit.
  for (const d of spec.dirs) await chmod(join(stage, d.path), d.mode);
  await chmod(stage, 0o755);
}

/**
 * The host path for image path `dest` inside stage, ready to be created: parents exist as real
 * directories (made 0755 when missing) and whatever was at dest that is not a directory is removed.
 */
async function place(stage: string, dest: string): Promise<string> {
  const parts = dest.split("/").filter((p) => p !== "");
  let here = stage;
  for (const [i, part] of parts.slice(0, -1).entries()) {
    here = join(here, part);
    const st = await lstat(here).catch(() => undefined);
    if (!st) {
      await mkdir(here);
      await chmod(here, 0o755);
    } else if (st.isSymbolicLink()) {
      const link = `/${parts.slice(0, i + 1).join("/")}`;
      throw new BuildError(
        "UNSAFE_PATH",
        `${dest} lies beneath the symlink ${link} in the image; name the link's target path instead`,
      );
    } else if (!st.isDirectory()) {
      throw new BuildError(
        "BAD_SPEC",
        `${dest}: /${parts.slice(0, i + 1).join("/")} is a file in the image, not a directory`,
      );
    }
  }
  const target = join(stage, ...parts);
  const st = await lstat(target).catch(() => undefined);
  if (st?.isDirectory()) throw new BuildError("BAD_SPEC", `${dest} is already a directory in the image`);
  if (st) await rm(target);
  return target;
}

/** A directory at image path `dest`; an existing one keeps its place and gets the mode. */
async function makeDir(stage: string, dest: string, mode: number): Promise<string> {
  if (dest === "/") return stage;
  const target = join(stage, dest);
  const st = await lstat(target).catch(() => undefined);
  if (!st?.isDirectory()) {
    await place(stage, dest);
    await mkdir(target);
  }
  await chmod(target, mode);
  return target;
}

async function copyItem(stage: string, specDir: string, c: CopyItem): Promise<void> {
  const root = await realpath(specDir);
  const src = await realpath(join(root, c.src)).catch(() => {
    throw new BuildError("MISSING_SOURCE", `copy source ${c.src} does not exist in ${specDir}`);
  });
  // The path itself was checked when parsing; this catches a symlink in the folder that leads out.
  if (src !== root && !src.startsWith(root + sep)) {
    throw new BuildError(
      "UNSAFE_PATH",
      `copy source ${c.src} resolves to ${src}, outside the spec's folder ${root}; copy the files into the folder`,
    );
  }
  await copyTree(stage, src, c.dest, c.mode);
}

/** Copies a file, symlink or directory tree (sorted, symlinks kept as links) to image path dest. */
async function copyTree(stage: string, src: string, dest: string, mode: number | undefined): Promise<void> {
  const st = await lstat(src);
  if (st.isDirectory()) {
    await makeDir(stage, dest, mode ?? st.mode & 0o7777);
    for (const name of (await readdir(src)).sort()) {
      await copyTree(stage, join(src, name), posix.join(dest, name), mode);
    }
  } else if (st.isFile()) {
    const target = await place(stage, dest);
    await copyFile(src, target);
    await chmod(target, mode ?? st.mode & 0o7777);
  } else if (st.isSymbolicLink()) {
    await symlink(await readlink(src), await place(stage, dest));
  } else {
    throw new BuildError("BAD_SPEC", `${src} is not a file, directory or symlink; only those can be copied`);
  }
}

async function addBinary(stage: string, b: BinaryItem): Promise<void> {
  const st = await stat(b.path).catch(() => undefined);
  if (!st?.isFile()) {
    throw new BuildError("MISSING_SOURCE", `binary ${b.path} does not exist on this host (or is not a file)`);
  }
  await copyHostFile(stage, b.path, b.dest);
  for (const lib of await sharedLibraries(b.path)) await copyHostFile(stage, lib, lib);
  const names = [...b.links, ...(b.allApplets ? applets(b.path) : [])];
  const self = basename(b.dest);
  for (const name of [...new Set(names)].sort()) {
    if (name === self) continue;
    // A bare name sits next to the binary and points at it relatively, as busybox installs do.
    const [at, to] = name.startsWith("/") ? [name, b.dest] : [posix.join(posix.dirname(b.dest), name), self];
    if (at === b.dest) continue;
    await symlink(to, await place(stage, at));
  }
}

/** Copies a host file's content (following symlinks) and mode to image path dest. */
async function copyHostFile(stage: string, src: string, dest: string): Promise<void> {
  const st = await stat(src).catch(() => undefined);
  if (!st?.isFile()) throw new BuildError("MISSING_SOURCE", `${src} does not exist on this host`);
  const target = await place(stage, dest);
  await copyFile(src, target);
  await chmod(target, st.mode & 0o7777);
}

/** The applet names a multi-call binary lists with --list (busybox). */
function applets(binary: string): string[] {
  const res = spawnSync(binary, ["--list"], { encoding: "utf8", timeout: 30_000 });
  if (res.status !== 0) {
    throw new BuildError(
      "TOOL_FAILED",
      `${binary} --list failed (all-applets needs a busybox-style binary): ${res.stderr || res.error?.message || `exit ${res.status}`}`,
    );
  }
  // Names such as "[" and "[[" are real applets; only path-like names are dropped.
  return res.stdout.split("\n").filter((n) => n !== "" && n !== "." && n !== ".." && !n.includes("/"));
}
