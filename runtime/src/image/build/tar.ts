// Reproducible tarballs of a folder: entries sorted by name, every mtime fixed, numeric owners, and
// no atime/ctime or pid-named pax headers, so the same tree always gives the same bytes.
import { readdir, writeFile } from "node:fs/promises";
import { execTool } from "../exec";
import { BuildError } from "./errors";

/** 1970-01-01: what every member's mtime is set to. */
export const FIXED_MTIME = "@0";

export interface TarOptions {
  /** Record every member as owned by 0:0 (files staged by this build); else keep numeric owners. */
  rootOwned: boolean;
  /** Add to an existing tarball (later members win on extraction) instead of creating one. */
  append?: boolean;
  /** Keep security.capability (a base image's ping and friends need it). */
  capabilities?: boolean;
}

/** Writes the contents of dir (not dir itself, no "./" prefix) to tarPath. */
export async function tarDirectory(dir: string, tarPath: string, o: TarOptions): Promise<void> {
  // Byte order, as tar's --sort=name uses within folders (the members named here are top level).
  const top = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (top.length === 0) {
    if (!o.append) await writeFile(tarPath, Buffer.alloc(10240)); // an empty archive: only the end marker
    return;
  }
  const args = [
    o.append ? "--append" : "--create",
    "--file",
    tarPath,
    "--directory",
    dir,
    "--sort=name",
    "--format=posix",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
    `--mtime=${FIXED_MTIME}`,
    "--numeric-owner",
    ...(o.rootOwned ? ["--owner=0", "--group=0"] : []),
    ...(o.capabilities ? ["--xattrs", "--xattrs-include=security.capability"] : ["--no-xattrs"]),
    "--no-acls",
    "--no-selinux",
    "--",
    ...top,
  ];
  const res = await execTool("tar", args, 600_000);
  if (res.code !== 0) {
    throw new BuildError("TOOL_FAILED", `tar of ${dir} failed: ${res.stderr.trim() || `exit ${res.code}`}`);
  }
}
