import { readFileSync } from "node:fs";

export interface MountInfo {
  mountPoint: string;
  fsType: string;
  source: string;
  /** Per-superblock options, e.g. "rw,lowerdir=...,upperdir=...,workdir=..." for overlay. */
  superOptions: string;
}

/** The mount table of this process's mount namespace (/proc/self/mountinfo), octal escapes decoded. */
export function readMounts(text = readFileSync("/proc/self/mountinfo", "utf8")): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 0 || fields.length < dash + 4) continue;
    out.push({
      mountPoint: decodeOctal(fields[4] ?? ""),
      fsType: fields[dash + 1] ?? "",
      source: decodeOctal(fields[dash + 2] ?? ""),
      superOptions: decodeOctal(fields[dash + 3] ?? ""),
    });
  }
  return out;
}

/** Mounts at exactly that path, oldest first (a path can be mounted over more than once). */
export function mountsAt(path: string): MountInfo[] {
  return readMounts().filter((m) => m.mountPoint === path);
}

/** The lowerdir option of every overlay mounted here (each may list several layers, ":"-separated). */
export function overlayLowerDirs(): string[] {
  return readMounts()
    .filter((m) => m.fsType === "overlay")
    .map((m) => /(?:^|,)lowerdir=([^,]*)/.exec(m.superOptions)?.[1] ?? "");
}

function decodeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}
