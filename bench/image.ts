// Image import time and disk use: one layered image (a busybox base layer plus an app layer) imported
// from an OCI layout tar, then 20 containers' root filesystems as overlays sharing its layers, next
// to 20 plain copies of the same tree (what a runtime without shared layers would store).
// Usage: sudo node --import tsx bench/image.ts [CONTAINERS]
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImageStore, mountOverlay, unmount } from "../runtime/src/image/index";
import { fromTar, tarFolder, writeOciLayout } from "../runtime/src/image/oci-fixture";

const containers = Number(process.argv[2] ?? 20);
const dir = mkdtempSync("/var/tmp/wt-bench-image-");
const mounted: string[] = [];

function layerFrom(fill: (root: string) => void) {
  const root = mkdtempSync(join(dir, "src-"));
  fill(root);
  return fromTar(execFileSync("tar", ["-C", root, "-cf", "-", "."], { maxBuffer: 1 << 30 }), true);
}

/** Size in KiB of the given paths together, hard links and shared files counted once (du -s -x: the mounted merged views are not counted again). */
function duKiB(...paths: string[]): number {
  const out = execFileSync("du", ["-s", "-x", "-c", "-k", ...paths])
    .toString()
    .trim()
    .split("\n");
  return Number(out.at(-1)?.split(/\s+/)[0]);
}

try {
  const base = layerFrom((root) => {
    for (const d of ["bin", "etc", "tmp", "proc", "sys", "dev"]) mkdirSync(join(root, d));
    copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
    for (const a of ["sh", "ls", "cat", "echo", "sleep"]) symlinkSync("busybox", join(root, "bin", a));
    writeFileSync(join(root, "etc", "passwd"), "root:x:0:0::/:/bin/sh\n");
  });
  const app = layerFrom((root) => {
    mkdirSync(join(root, "srv"));
    // Incompressible, so the blob and the unpacked layer are about the same size.
    writeFileSync(join(root, "srv", "assets.bin"), randomBytes(16 * 1024 * 1024));
  });
  const layout = writeOciLayout(join(dir, "oci"), [
    { tags: ["bench/app:1"], layers: [base, app], config: { Cmd: ["sleep", "1000"] } },
  ]);
  const archive = tarFolder(layout, join(dir, "app.tar"));
  const store = new ImageStore(join(dir, "state", "images"));

  const t0 = process.hrtime.bigint();
  const image = await store.import(archive, "bench/app:1");
  const importMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const layersKiB = duKiB(join(dir, "state", "images", "layers"));

  const t1 = process.hrtime.bigint();
  for (let i = 0; i < containers; i++) {
    const c = join(dir, "state", "containers", String(i));
    await mountOverlay({
      lower: image.layers,
      upper: join(c, "upper"),
      work: join(c, "work"),
      target: join(c, "rootfs"),
    });
    mounted.push(join(c, "rootfs"));
    writeFileSync(join(c, "rootfs", "tmp", "pid"), `${i}\n`); // each container writes a little
  }
  const mountMs = Number(process.hrtime.bigint() - t1) / 1e6;
  // Upper and work dirs only: the merged views are the shared layers seen again.
  const sharedKiB = duKiB(join(dir, "state", "images", "layers"), join(dir, "state", "containers"));

  const copies = join(dir, "copies");
  mkdirSync(copies);
  for (let i = 0; i < containers; i++) {
    execFileSync("cp", ["-a", mounted[0]!, join(copies, String(i))]);
  }
  const copiesKiB = duKiB(copies);

  const mib = (k: number) => `${(k / 1024).toFixed(1)} MiB`;
  process.stdout.write(
    [
      `image: ${image.layers.length} layers, ${mib(image.sizeBytes / 1024)} of files, archive ${mib(duKiB(archive))}`,
      `import (verify digests, unpack, whiteouts): ${importMs.toFixed(0)} ms`,
      `layer store on disk after import: ${mib(layersKiB)}`,
      `${containers} containers mounted (overlay, each writes one file): ${mountMs.toFixed(0)} ms`,
      `disk: layer store + ${containers} upper dirs = ${mib(sharedKiB)}; ${containers} copies = ${mib(copiesKiB)}; ` +
        `ratio ${(copiesKiB / sharedKiB).toFixed(1)}x`,
      "",
    ].join("\n"),
  );
} finally {
  // The mounts are taken down before the folder goes: rm would otherwise walk into the layers.
  for (const m of mounted) await unmount(m);
  rmSync(dir, { recursive: true, force: true });
}
