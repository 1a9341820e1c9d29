// weft cp as a user types it, against a daemon API over fake parts: the engine's own containerFs (its
// volumes, read-only mounts) with real files in the state directory.
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { END_OF_ARCHIVE, entryHeader, type TarEntry } from "../copy/tar";
import { parseCpArg } from "./cp";
import { decimalSize } from "./stats";
import { startFakeDaemon, weftCli } from "./testing";

async function setup(t: Parameters<typeof startFakeDaemon>[0]) {
  const { dir, host } = await startFakeDaemon(t);
  const weft = (args: string[], input?: string) => weftCli(args, { WEFT_HOST: host }, input);
  const ro = join(dir, "ro-source");
  mkdirSync(ro);
  const id = (
    await weft(["create", "--name", "box", "-v", "vol:/data", "-v", `${ro}:/ro:ro`, "busybox"])
  ).stdout.trim();
  const rootfs = join(dir, "state", "containers", id, "rootfs");
  mkdirSync(join(rootfs, "etc"), { recursive: true });
  writeFileSync(join(rootfs, "etc", "app.conf"), "port=8080\n");
  const local = join(dir, "local");
  mkdirSync(local);
  return { weft, dir, rootfs, local, volume: join(dir, "state", "volumes", "vol", "_data") };
}

test("cp into a container: the root, a volume, refused on a read-only mount", async (t) => {
  const { weft, rootfs, local, volume } = await setup(t);
  writeFileSync(join(local, "notes.txt"), "hello\n");
  const put = await weft(["cp", join(local, "notes.txt"), "box:/etc/"]);
  t.is(put.code, 0, put.stderr);
  t.is(put.stderr, "Successfully copied 2.05kB to box:/etc/\n");
  t.is(readFileSync(join(rootfs, "etc", "notes.txt"), "utf8"), "hello\n");
  t.is(statSync(join(rootfs, "etc", "notes.txt")).uid, 0, "the container's root owns it");

  t.is((await weft(["cp", "-q", join(local, "notes.txt"), "box:/data/renamed.txt"])).code, 0);
  t.is(readFileSync(join(volume, "renamed.txt"), "utf8"), "hello\n", "written into the volume");

  const ro = await weft(["cp", join(local, "notes.txt"), "box:/ro/"]);
  t.is(ro.code, 1);
  t.regex(ro.stderr, /\/ro is mounted read-only in box; copy to another path/);

  const noDir = await weft(["cp", join(local, "notes.txt"), "box:/missing/dir/"]);
  t.is(noDir.code, 2);
  t.regex(noDir.stderr, /destination directory box:\/missing\/dir\/ does not exist/);
});

test("cp out of a container: renamed, a directory's contents, a tar on stdout, a missing path", async (t) => {
  const { weft, rootfs, local, volume } = await setup(t);
  writeFileSync(join(volume, "a.txt"), "A");
  mkdirSync(join(rootfs, "data", "sub"), { recursive: true }); // hidden under the volume: never copied
  const one = await weft(["cp", "box:/etc/app.conf", join(local, "copy.conf")]);
  t.is(one.code, 0, one.stderr);
  t.is(readFileSync(join(local, "copy.conf"), "utf8"), "port=8080\n");

  mkdirSync(join(local, "existing"));
  t.is((await weft(["cp", "-q", "box:/data/.", join(local, "existing")])).code, 0);
  t.is(readFileSync(join(local, "existing", "a.txt"), "utf8"), "A");
  t.throws(() => statSync(join(local, "existing", "sub")), undefined, "the volume, not what it covers");

  const tar = await weft(["cp", "box:/etc", "-"]);
  t.is(tar.code, 0, tar.stderr);
  t.true(tar.stdout.startsWith("etc/"), "the archive starts with the directory");
  t.true(tar.stdout.includes("etc/app.conf"));
  t.true(tar.stdout.includes("port=8080\n"));

  const missing = await weft(["cp", "box:/nope", local]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /Could not find the file \/nope in container box/);
});

test("cp - refuses an archive entry that leads out of the directory, keeping what is there", async (t) => {
  const { weft, rootfs } = await setup(t);
  const entry = (name: string, content: string): string => {
    const e: TarEntry = {
      name,
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: content.length,
      mtime: 1_700_000_000,
      linkname: "",
      devmajor: 0,
      devminor: 0,
    };
    const pad = (512 - (content.length % 512)) % 512;
    return entryHeader(e).toString("latin1") + content + "\0".repeat(pad);
  };
  const archive = entry("ok.txt", "fine") + entry("../../evil.txt", "no") + END_OF_ARCHIVE.toString("latin1");
  const res = await weft(["cp", "-", "box:/etc"], archive);
  t.is(res.code, 1);
  t.regex(res.stderr, /the archive's entry "\.\.\/\.\.\/evil\.txt" leads out of \/etc/);
  t.is(readFileSync(join(rootfs, "etc", "app.conf"), "utf8"), "port=8080\n");
  t.is(readFileSync(join(rootfs, "etc", "ok.txt"), "utf8"), "fine", "entries before it were written");
});

test("cp arguments: which side is the container, and docker's sizes", (t) => {
  t.deepEqual(parseCpArg("web:/etc/x"), { container: "web", path: "/etc/x" });
  t.deepEqual(parseCpArg("./a:b"), { path: "./a:b" });
  t.deepEqual(parseCpArg("/tmp/a:b"), { path: "/tmp/a:b" });
  t.deepEqual(parseCpArg("plain"), { path: "plain" });
  t.is(decimalSize(512, 3), "512B");
  t.is(decimalSize(2048, 3), "2.05kB");
  t.is(decimalSize(12_300_000, 3), "12.3MB");
});

test("cp needs exactly one container side", async (t) => {
  const { weft, local } = await setup(t);
  const both = await weft(["cp", "box:/a", "box:/b"]);
  t.is(both.code, 2);
  t.regex(both.stderr, /copying between containers is not supported/);
  const none = await weft(["cp", local, "/tmp/x"]);
  t.is(none.code, 2);
  t.regex(none.stderr, /one of the paths must be CONTAINER:PATH/);
});
