// Reading and writing cgroupfs files, with errors that name the file and the value.
import { existsSync } from "node:fs";
import { readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CgroupError } from "./errors";

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * Writes one value into a cgroup file. The kernel answers a value it refuses with EINVAL, EBUSY or
 * ESRCH, and the message says which limit (`what`) and file that was, so the user can correct it.
 */
export async function writeCgroupFile(dir: string, file: string, value: string, what: string): Promise<void> {
  const path = join(dir, file);
  try {
    await writeFile(path, value);
  } catch (err) {
    const code = errno(err);
    // cgroupfs refuses to create files: writing one that is absent fails with EACCES or EPERM on the
    // real kernel (ENOENT only on a plain directory), so absence is checked rather than the errno.
    if (file !== "cgroup.procs" && (code === "ENOENT" || !existsSync(path))) {
      throw new CgroupError(
        "CONTROLLER_MISSING",
        `cannot set ${what}: ${path} does not exist, so the kernel lacks that controller here; leave ${what} unset`,
      );
    }
    const hint =
      code === "ESRCH"
        ? "the process has exited"
        : code === "EBUSY"
          ? "the cgroup is in use in a way that forbids this change"
          : "check the value against the kernel's limits";
    throw new CgroupError(
      "CGROUP_WRITE_FAILED",
      `the kernel refused ${what} "${value.trim()}" written to ${path} (${code ?? (err as Error).message}): ${hint}`,
    );
  }
}

/** Reads a file of one number (or "max"); undefined when the file is absent (controller not there). */
export async function readNumber(path: string): Promise<number | undefined> {
  const text = await readOptional(path);
  if (text === undefined) return undefined;
  const value = Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(value) ? value : undefined;
}

/** Reads "key value" lines (memory.stat, cpu.stat) into a map. */
export async function readKeyed(path: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const text = await readOptional(path);
  for (const line of (text ?? "").split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) out.set(key, Number(value));
  }
  return out;
}

export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if (errno(err) === "ENOENT") return undefined;
    throw new CgroupError("CGROUP_FAILED", `cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * Removes a cgroup directory and every cgroup below it, deepest first (cgroupfs directories can only
 * be rmdir'ed, and only when empty of children). A cgroup whose last process is still exiting stays
 * busy for a moment, so EBUSY is retried for up to `busyWaitMs`. A missing directory is fine.
 */
export async function removeTree(dir: string, busyWaitMs = 2000): Promise<void> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errno(err) === "ENOENT") return;
    throw new CgroupError("CGROUP_FAILED", `cannot list ${dir}: ${(err as Error).message}`);
  }
  for (const entry of entries) {
    if (entry.isDirectory()) await removeTree(join(dir, entry.name), busyWaitMs);
  }
  const deadline = Date.now() + busyWaitMs;
  for (let delayMs = 10; ; delayMs = Math.min(delayMs * 2, 200)) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = errno(err);
      if (code === "ENOENT") return;
      if (code !== "EBUSY" || Date.now() >= deadline) {
        const procs = ((await readOptional(join(dir, "cgroup.procs"))) ?? "")
          .trim()
          .split("\n")
          .filter(Boolean);
        throw new CgroupError(
          code === "EBUSY" ? "CGROUP_BUSY" : "CGROUP_FAILED",
          procs.length > 0
            ? `cannot remove cgroup ${dir}: processes ${procs.join(", ")} are still in it; stop them first`
            : `cannot remove cgroup ${dir}: ${(err as Error).message}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
