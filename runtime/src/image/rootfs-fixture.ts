// Test helper (not part of the public surface): tiny rootfs tarballs made from busybox-static, and
// malformed ones, so image and runc tests need no network and no registry.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const BUSYBOX_APPLETS = ["sh", "echo", "cat", "hostname", "id", "sleep", "ls"];

/** Writes DIR/rootfs-src and packs it into DIR/NAME (gzip when the name ends in .gz or .tgz). */
export function buildBusyboxTarball(dir: string, name = "busybox.tar"): string {
  const src = join(dir, `${name}.src`);
  for (const d of ["bin", "etc", "proc", "sys", "dev", "tmp"]) mkdirSync(join(src, d), { recursive: true });
  copyFileSync("/bin/busybox", join(src, "bin", "busybox"));
  for (const applet of BUSYBOX_APPLETS) symlinkSync("busybox", join(src, "bin", applet));
  writeFileSync(
    join(src, "etc", "passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n",
  );
  const out = join(dir, name);
  const gzip = /\.(gz|tgz)$/.test(name);
  execFileSync("tar", ["-C", src, gzip ? "-czf" : "-cf", out, "."]);
  return out;
}

/**
 * Writes a tarball with hand-made members (Python's tarfile writes names GNU tar would refuse to
 * create). Each member: a file with content, a symlink or a hard link.
 */
export function buildRawTarball(
  path: string,
  members: Array<{ name: string; content?: string; symlink?: string; hardlink?: string }>,
): string {
  const script = `
import io, json, sys, tarfile
members = json.loads(sys.argv[2])
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for m in members:
        info = tarfile.TarInfo(m["name"])
        data = None
        if "symlink" in m:
            info.type, info.linkname = tarfile.SYMTYPE, m["symlink"]
        elif "hardlink" in m:
            info.type, info.linkname = tarfile.LNKTYPE, m["hardlink"]
        else:
            data = m.get("content", "").encode()
            info.size = len(data)
        t.addfile(info, io.BytesIO(data) if data is not None else None)
`;
  execFileSync("python3", ["-c", script, path, JSON.stringify(members)]);
  return path;
}
