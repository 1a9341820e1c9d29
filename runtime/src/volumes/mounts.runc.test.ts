// Against the real runc 1.1, overlayfs and tmpfs: --tmpfs limits and options, and a new named volume
// seeded from the image's files (once: a second container finds what the first left there).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { mountOverlay, unmount } from "../image/index";
import { buildBusyboxTarball } from "../image/rootfs-fixture";
import { buildSpec, type SpecOptions } from "../oci/index";
import { parseTmpfs, seedVolume, VolumeStore } from "./index";

const dir = mkdtempSync(join(tmpdir(), "wt-mounts-"));
const cgroupParent = `/weft-test-${randomBytes(4).toString("hex")}`;
/** The image: busybox plus /var/lib/app (owned 1234:2345, mode 0750) and /srv/app -> /var/lib/app. */
let layer: string;

test.before(() => {
  buildBusyboxTarball(dir);
  layer = join(dir, "busybox.tar.src");
  for (const applet of ["dd", "stat", "cp", "readlink", "grep", "rm", "wc"])
    symlinkSync("busybox", join(layer, "bin", applet));
  const app = join(layer, "var", "lib", "app");
  mkdirSync(join(app, "sub"), { recursive: true });
  writeFileSync(join(app, "conf"), "from-image\n");
  writeFileSync(join(app, "sub", "doomed"), "x\n");
  symlinkSync("conf", join(app, "link"));
  chownSync(app, 1234, 2345);
  chownSync(join(app, "conf"), 1234, 2345);
  // statSync keeps the mode umask gave mkdir; set it exactly.
  spawnSync("chmod", ["0750", app]);
  mkdirSync(join(layer, "srv"));
  symlinkSync("/var/lib/app", join(layer, "srv", "app"));
});

test.after.always(() => {
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const d = join("/sys/fs/cgroup", h, cgroupParent);
    if (!existsSync(d)) continue;
    for (const c of readdirSync(d, { withFileTypes: true })) if (c.isDirectory()) rmdirSync(join(d, c.name));
    rmdirSync(d);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh overlay of the image for one container; unmounted in teardown. */
async function rootfsFor(t: ExecutionContext): Promise<{ id: string; base: string; rootfs: string }> {
  const id = `wt${randomBytes(5).toString("hex")}`;
  const base = join(dir, id);
  const rootfs = join(base, "rootfs");
  t.teardown(() => unmount(rootfs));
  await mountOverlay({ lower: layer, upper: join(base, "upper"), work: join(base, "work"), target: rootfs });
  return { id, base, rootfs };
}

/** Runs the container to its end (runc run in the foreground, own netns) and returns its output. */
function runToEnd(
  c: { id: string; base: string; rootfs: string },
  script: string,
  o: Partial<SpecOptions> = {},
): { code: number | null; stdout: string; stderr: string } {
  const spec = buildSpec({
    rootfs: c.rootfs,
    args: ["sh", "-c", script],
    env: [],
    cwd: "/",
    uid: 0,
    gid: 0,
    hostname: c.id,
    netnsPath: "",
    cgroupsPath: `${cgroupParent}/${c.id}`,
    resources: {},
    binds: [],
    ...o,
  });
  spec.linux.namespaces = spec.linux.namespaces.map((n) => (n.type === "network" ? { type: "network" } : n));
  writeFileSync(join(c.base, "config.json"), JSON.stringify(spec));
  const root = join(c.base, "runc");
  const res = spawnSync("runc", ["--root", root, "run", "--bundle", c.base, c.id], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
  spawnSync("runc", ["--root", root, "delete", "--force", c.id]);
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

test("--tmpfs: a size-limited, noexec tmpfs; writing past the limit fails; nothing reaches the rootfs", async (t) => {
  const c = await rootfsFor(t);
  const tmpfs = [parseTmpfs("/scratch:size=4m,mode=1770")];
  const res = runToEnd(
    c,
    [
      "grep ' /scratch ' /proc/mounts",
      "stat -c 'mode=%a' /scratch",
      "dd if=/dev/zero of=/scratch/small bs=1024 count=512 2>/dev/null && echo SMALL-OK",
      "if dd if=/dev/zero of=/scratch/big bs=1024 count=8192 2>/dev/null; then echo BIG-OK; else echo BIG-FAILED; fi",
      "rm -f /scratch/big && cp /bin/busybox /scratch/true && if /scratch/true 2>/dev/null; then echo EXEC-OK; else echo EXEC-DENIED; fi",
    ].join("; "),
    { tmpfs, readonlyRootfs: true },
  );
  t.is(res.code, 0, res.stderr);
  const lines = res.stdout.trim().split("\n");
  t.regex(lines[0] ?? "", /^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=4096k,mode=1770/);
  t.deepEqual(lines.slice(1), ["mode=1770", "SMALL-OK", "BIG-FAILED", "EXEC-DENIED"]);
  // runc makes the missing mount point; the files written on the tmpfs never land in the layer.
  t.deepEqual(readdirSync(join(c.base, "upper", "scratch")), []);

  const exec = await rootfsFor(t);
  const withExec = runToEnd(exec, "cp /bin/busybox /run/echo && /run/echo RAN", {
    tmpfs: [parseTmpfs("/run:exec")],
  });
  t.is(withExec.stdout, "RAN\n", withExec.stderr);
});

test("a new named volume starts with the image's files, owners and links; a second container does not re-seed", async (t) => {
  const volumes = new VolumeStore(join(dir, "volumes"));
  const vol = volumes.create(`data${randomBytes(2).toString("hex")}`);

  const first = await rootfsFor(t);
  t.is(await seedVolume(vol.mountpoint, first.rootfs, "/var/lib/app"), "seeded");
  const binds = [{ source: vol.mountpoint, destination: "/var/lib/app" }];
  const one = runToEnd(
    first,
    [
      "stat -c '%u:%g %a' /var/lib/app /var/lib/app/conf",
      "cat /var/lib/app/conf",
      "readlink /var/lib/app/link",
      "echo from-first > /var/lib/app/conf",
      "rm /var/lib/app/sub/doomed",
    ].join("; "),
    { binds },
  );
  t.is(one.code, 0, one.stderr);
  t.deepEqual(one.stdout.trim().split("\n"), ["1234:2345 750", "1234:2345 644", "from-image", "conf"]);

  // A second container of the same image: the volume is not empty, so nothing is copied again.
  const second = await rootfsFor(t);
  t.is(await seedVolume(vol.mountpoint, second.rootfs, "/var/lib/app"), "not-empty");
  const two = runToEnd(second, "cat /var/lib/app/conf; ls /var/lib/app/sub | wc -l", { binds });
  t.deepEqual(two.stdout.trim().split(/\s+/), ["from-first", "0"], two.stderr);
});

test("seeding follows the image's symlinks inside the rootfs; a path the image lacks leaves the volume empty", async (t) => {
  const c = await rootfsFor(t);
  const volumes = new VolumeStore(join(dir, "volumes"));
  const viaLink = volumes.create(`link${randomBytes(2).toString("hex")}`);
  t.is(await seedVolume(viaLink.mountpoint, c.rootfs, "/srv/app"), "seeded");
  t.deepEqual(readdirSync(viaLink.mountpoint).sort(), ["conf", "link", "sub"]);
  t.is(statSync(viaLink.mountpoint).uid, 1234);

  const missing = volumes.create(`none${randomBytes(2).toString("hex")}`);
  t.is(await seedVolume(missing.mountpoint, c.rootfs, "/no/such/dir"), "nothing-in-image");
  t.deepEqual(readdirSync(missing.mountpoint), []);
  t.is(statSync(missing.mountpoint).uid, 0, "an unseeded volume keeps root's ownership");
});
