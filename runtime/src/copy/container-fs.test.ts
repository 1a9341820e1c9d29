// Paths resolved as the container resolves them: symlinks (absolute, relative, "..") never leave its
// root, mounts lay their sources over it, read-only places refuse writes, ids map under a user namespace.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { ContainerFs, RUNTIME_MOUNTS } from "./container-fs";
import { packPath, statPath } from "./pack";

function fixture(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), "weft-cfs-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rootfs = join(dir, "rootfs");
  const volume = join(dir, "volume");
  mkdirSync(join(rootfs, "etc"), { recursive: true });
  mkdirSync(join(rootfs, "data"), { recursive: true });
  mkdirSync(volume);
  writeFileSync(join(rootfs, "etc", "passwd"), "root:x:0:0::/root:/bin/sh\n");
  writeFileSync(join(volume, "db"), "rows");
  symlinkSync("/etc", join(rootfs, "abs"));
  symlinkSync("../../../../../../etc", join(rootfs, "up"));
  symlinkSync("/data/db", join(rootfs, "dblink"));
  symlinkSync("loop", join(rootfs, "loop"));
  const fs = new ContainerFs({
    name: "web",
    rootfs,
    mounts: [{ destination: "/data", source: volume, readonly: true }],
    readOnlyRoot: false,
    uidMap: [{ containerID: 0, hostID: 1_000_000, size: 65536 }],
    gidMap: [{ containerID: 0, hostID: 1_000_000, size: 65536 }],
  });
  return { fs, rootfs, volume };
}

test("absolute and climbing symlinks resolve inside the root, never to the host's files", (t) => {
  const { fs, rootfs } = fixture(t);
  t.is(fs.resolve("/abs/passwd", true).host, join(rootfs, "etc", "passwd"));
  t.is(fs.resolve("/up/passwd", true).host, join(rootfs, "etc", "passwd"), '".." stops at the root');
  t.is(fs.resolve("/../../etc/passwd", true).path, "/etc/passwd");
  t.is(fs.resolve("/abs", false).path, "/abs", "the last link is not followed unless asked");
});

test("a path under a mount is in the mount's source, links into it included", (t) => {
  const { fs, volume } = fixture(t);
  t.is(fs.resolve("/data/db", true).host, join(volume, "db"));
  const link = fs.resolve("/dblink", true);
  t.is(link.path, "/data/db");
  t.is(link.host, join(volume, "db"));
  t.is(statPath(fs, "/dblink").linkTarget, "/data/db");
});

test("missing paths, link loops, read-only places and mapped ids", (t) => {
  const { fs, rootfs } = fixture(t);
  const missing = fs.resolve("/etc/nope/deeper", true);
  t.is(missing.stat, undefined);
  t.is(missing.host, join(rootfs, "etc", "nope", "deeper"));
  t.throws(() => fs.resolve("/loop", true), { message: /too many levels of symbolic links/ });
  t.throws(() => statPath(fs, "/nope"), { message: "Could not find the file /nope in container web" });
  t.throws(() => fs.checkWritable("/data/x"), { message: /\/data is mounted read-only in web/ });
  t.notThrows(() => fs.checkWritable("/etc/x"));
  t.is(fs.hostUid(0), 1_000_000);
  t.is(fs.containerUid(1_000_033), 33);
  t.is(fs.containerUid(5), 65534, "a host id outside the range shows as nobody");
  const readOnly = new ContainerFs({ name: "ro", rootfs, mounts: [], readOnlyRoot: true });
  t.throws(() => readOnly.checkWritable("/etc/x"), { message: /ro's root filesystem is read-only/ });
});

test("a directory swapped for a symlink after the resolution is refused, not followed to the host", (t) => {
  const { fs, rootfs } = fixture(t);
  const host = join(rootfs, "..", "host-side");
  mkdirSync(join(host, "sub"), { recursive: true });
  mkdirSync(join(rootfs, "srv", "sub"), { recursive: true });
  const at = fs.resolve("/srv/sub/new", true);
  t.is(at.path, "/srv/sub/new");
  // What a running app can do between the daemon's resolution and its write.
  renameSync(join(rootfs, "srv"), join(rootfs, "srv.old"));
  symlinkSync(host, join(rootfs, "srv"));
  t.throws(() => fs.onHost(at.path, (h) => writeFileSync(h, "x")), {
    message: /a directory on the path to \/srv\/sub\/new in web was replaced by a symlink/,
  });
  t.false(existsSync(join(host, "sub", "new")), "nothing written on the host");
  t.deepEqual(readdirSync(host), ["sub"]);
  // Resolved again, the link is the container's: it leads into the container's own tree.
  t.is(fs.resolve("/srv/sub/new", true).host, join(rootfs, host.slice(1), "sub", "new"));
});

test("what is mounted inside the container (/proc, /dev, --tmpfs) is refused both ways, with what to do", (t) => {
  const { rootfs, volume } = fixture(t);
  mkdirSync(join(rootfs, "dev"));
  const fs = new ContainerFs({
    name: "web",
    rootfs,
    mounts: [{ destination: "/dev/data", source: volume, readonly: false }],
    readOnlyRoot: false,
    hidden: [...RUNTIME_MOUNTS, { destination: "/scratch", what: "a tmpfs (--tmpfs)" }],
  });
  t.throws(() => fs.checkWritable("/dev/x"), {
    message:
      "cannot copy into /dev/x in web: /dev is a tmpfs the runtime makes at each start inside the container, and what is copied there would be hidden under it; copy elsewhere, or through the app: weft exec -i web sh -c 'cat > /dev/x' < FILE",
  });
  t.throws(() => fs.checkWritable("/scratch"), { message: /\/scratch is a tmpfs \(--tmpfs\)/ });
  t.throws(() => packPath(fs, "/proc/cpuinfo"), {
    message:
      "cannot copy out of /proc/cpuinfo in web: /proc is the kernel's process filesystem inside the container, and it is not among its files; read it through the app: weft exec web cat /proc/cpuinfo",
  });
  t.notThrows(() => fs.checkWritable("/dev/data/x"), "a volume mounted under /dev is reached");
  t.notThrows(() => fs.checkWritable("/devices/x"), "only the mount and what is under it");
  t.notThrows(() => fs.checkWritable("/etc/x"));
});
