// weft commit's storage, end to end on this machine's overlayfs: a container's upper directory
// (real whiteouts and an opaque directory, made by a real overlay mount) becomes a layer of a new
// image, and that image mounted again shows exactly what the container saw; saved as a docker save
// archive and imported elsewhere, it still does.
import { execFileSync } from "node:child_process";
import {
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import test from "ava";
import { ContainerFs } from "../copy/container-fs";
import { packLayer, packRoot } from "../copy/pack";
import { weftSys } from "../sys/native";
import { mountOverlay, unmount } from "./overlay";
import { buildBusyboxTarball } from "./rootfs-fixture";
import { saveArchive } from "./save";
import { ImageStore } from "./store";

test("a container's changes become a layer: the new image mounted shows what the container saw", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "wt-commit-"));
  const merged = join(dir, "merged");
  const again = join(dir, "again");
  t.teardown(async () => {
    await unmount(merged);
    await unmount(again);
    rmSync(dir, { recursive: true, force: true });
  });
  const store = new ImageStore(join(dir, "images"));
  const base = await store.import(buildBusyboxTarball(dir), "bbox");
  t.deepEqual(base.diffIds, [], "a plain rootfs image: the commit must make it a layer first");
  // What the container did, through a real overlay as its root is.
  const upper = join(dir, "upper");
  const work = join(dir, "work");
  for (const d of [upper, work, merged, again]) mkdirSync(d);
  await mountOverlay({ lower: base.layers, upper, work, target: merged });
  rmSync(join(merged, "etc", "passwd")); // a whiteout
  rmSync(join(merged, "bin"), { recursive: true }); // a directory deleted...
  mkdirSync(join(merged, "bin")); // ...and made again: opaque
  writeFileSync(join(merged, "bin", "tool"), "#!/bin/sh\n", { mode: 0o755 });
  mkdirSync(join(merged, "srv", "data"), { recursive: true });
  writeFileSync(join(merged, "srv", "data", "state"), "42\n");
  writeFileSync(join(merged, "proc", "not-kept"), "runtime's"); // under a skipped path
  await unmount(merged);
  t.is(weftSys().lgetxattr(join(upper, "bin"), "trusted.overlay.opaque")?.toString(), "y");

  const config = { ...base.config, cmd: ["cat", "/srv/data/state"], labels: { made: "by-test" } };
  const image = await store.commit("bbox:committed", {
    base,
    config,
    comment: "state 42",
    writeLayers: async (scratch) => {
      const baseTar = join(scratch, "base.tar");
      const root = new ContainerFs({ name: "bbox", rootfs: base.rootfs, mounts: [], readOnlyRoot: true });
      await pipeline(Readable.from(packRoot(root)), createWriteStream(baseTar));
      const changes = join(scratch, "changes.tar");
      const fs = new ContainerFs({ name: "c", rootfs: upper, mounts: [], readOnlyRoot: true });
      await pipeline(Readable.from(packLayer(fs, new Set(["/proc"]))), createWriteStream(changes));
      return [
        { path: baseTar, what: "the base" },
        { path: changes, what: "the changes" },
      ];
    },
  });
  t.is(image.name, "bbox:committed");
  t.is(image.diffIds.length, 2);
  t.deepEqual(image.config.cmd, ["cat", "/srv/data/state"]);
  t.is(store.get("bbox:committed").id, image.id, "named in the index");

  // The new image's layers, mounted as a container of it would be.
  const upper2 = join(dir, "upper2");
  const work2 = join(dir, "work2");
  mkdirSync(upper2);
  mkdirSync(work2);
  await mountOverlay({ lower: image.layers, upper: upper2, work: work2, target: again });
  t.false(existsSync(join(again, "etc", "passwd")), "the deleted file stays deleted");
  t.deepEqual(readdirSync(join(again, "bin")), ["tool"], "the remade directory hides the old busybox");
  t.is(lstatSync(join(again, "bin", "tool")).mode & 0o777, 0o755);
  t.is(readFileSync(join(again, "srv", "data", "state"), "utf8"), "42\n");
  t.false(existsSync(join(again, "proc", "not-kept")), "the runtime's directories are left out");
  t.true(existsSync(join(again, "tmp")), "the base's tree is there");
  await unmount(again);

  // Saved as docker save writes it and imported into another store: the same tree and config.
  const archive = join(dir, "saved.tar");
  const scratch = store.scratchDir();
  await pipeline(Readable.from(saveArchive([image], scratch)), createWriteStream(archive));
  rmSync(scratch, { recursive: true, force: true });
  const members = execFileSync("tar", ["-tf", archive], { encoding: "utf8" }).split("\n");
  t.true(members.includes("manifest.json"));
  const elsewhere = new ImageStore(join(dir, "images2"));
  const [loaded] = await elsewhere.importImages(archive);
  t.is(loaded?.name, "bbox:committed", "the archive carries the name");
  t.deepEqual(loaded?.config, image.config);
  const upper3 = join(dir, "upper3");
  const work3 = join(dir, "work3");
  mkdirSync(upper3);
  mkdirSync(work3);
  await mountOverlay({ lower: loaded?.layers ?? [], upper: upper3, work: work3, target: again });
  t.false(existsSync(join(again, "etc", "passwd")), "whiteouts survive the archive");
  t.deepEqual(readdirSync(join(again, "bin")), ["tool"], "so does the opaque directory");
  t.is(readFileSync(join(again, "srv", "data", "state"), "utf8"), "42\n");
});
