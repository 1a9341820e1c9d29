// A container from a layered image under the real runc: it sees the merged layers (whiteouts and
// opaque dirs applied), and the layers stay untouched by what it writes.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { ImageStore, mountOverlay, unmount } from "./index";
import { fromTar, makeLayer, tarFolder, writeDockerSave } from "./oci-fixture";

function busyboxLayer(dir: string) {
  const root = join(dir, "busybox-src");
  for (const d of ["bin", "etc", "proc", "sys", "dev", "tmp"]) mkdirSync(join(root, d), { recursive: true });
  copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
  for (const a of ["sh", "ls", "cat", "test"]) symlinkSync("busybox", join(root, "bin", a));
  writeFileSync(join(root, "a"), "a\n");
  mkdirSync(join(root, "d"));
  writeFileSync(join(root, "d", "x"), "x\n");
  return fromTar(execFileSync("tar", ["-C", root, "-cf", "-", "."], { maxBuffer: 1 << 28 }), true);
}

test("runc runs a docker-save image: merged layers, whiteouts applied, layers unchanged", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "wt-layrunc-"));
  const id = `wt${randomBytes(5).toString("hex")}`;
  const bundle = join(dir, "bundle");
  const runcRoot = join(dir, "runc");
  t.teardown(async () => {
    spawnSync("runc", ["--root", runcRoot, "delete", "--force", id], { stdio: "ignore" });
    await unmount(join(bundle, "rootfs"));
    rmSync(dir, { recursive: true, force: true });
  });
  const l2 = makeLayer({ ".wh.a": "", "d/.wh..wh..opq": "", "d/y": "y\n" });
  const saved = writeDockerSave(join(dir, "save"), [{ tags: ["app:1"], layers: [busyboxLayer(dir), l2] }]);
  const store = new ImageStore(join(dir, "images"));
  const image = await store.import(tarFolder(saved, join(dir, "app.tar")), "app:1");

  mkdirSync(bundle);
  await mountOverlay({
    lower: image.layers,
    upper: join(dir, "upper"),
    work: join(dir, "work"),
    target: join(bundle, "rootfs"),
  });
  execFileSync("runc", ["spec", "--bundle", bundle]);
  const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
  spec.process.terminal = false;
  spec.process.args = ["sh", "-c", "test -e /a && echo a-visible; ls /d; echo w > /written"];
  spec.root.readonly = false;
  spec.linux.cgroupsPath = `/${id}`;
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  const res = spawnSync("runc", ["--root", runcRoot, "run", "--bundle", bundle, id], {
    encoding: "utf8",
    timeout: 60_000,
  });
  t.is(res.status, 0, res.stderr);
  t.is(res.stdout, "y\n", "no /a, and /d holds only y");
  t.is(readFileSync(join(dir, "upper", "written"), "utf8"), "w\n");
  for (const layer of image.layers) t.false(existsSync(join(layer, "written")));
});
