// Unpacking an archive: never through a link to outside the container, on the host never past the
// destination, never writing through an existing symlink, nor through a directory an app swaps for
// a symlink meanwhile; renames and Docker's dir/non-dir rule; device nodes and FIFOs.
import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { ContainerFs } from "./container-fs";
import { extractInto } from "./extract";
import { END_OF_ARCHIVE, entryHeader, padding, type TarEntry } from "./tar";

function tarOf(entries: Array<Partial<TarEntry> & { name: string; content?: string }>): Buffer[] {
  const out: Buffer[] = [];
  for (const e of entries) {
    const content = Buffer.from(e.content ?? "");
    const entry: TarEntry = {
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 1_700_000_000,
      linkname: "",
      devmajor: 0,
      devminor: 0,
      ...e,
      size: content.length,
    };
    out.push(entryHeader(entry), content, padding(content.length));
  }
  out.push(END_OF_ARCHIVE);
  return out;
}

function temp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "weft-extract-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const EVIL = [
  { name: "x", type: "symlink" as const, linkname: "" },
  { name: "x/planted", content: "gotcha" },
];

test("on the host, an archive's own symlink does not take a later entry past the destination", async (t) => {
  const dir = temp(t);
  const dest = join(dir, "dest");
  const elsewhere = join(dir, "elsewhere");
  mkdirSync(dest);
  mkdirSync(elsewhere);
  const host = new ContainerFs({ name: "this host", rootfs: "/", mounts: [], readOnlyRoot: false });
  const archive = tarOf([{ ...EVIL[0], linkname: elsewhere } as never, EVIL[1] as never]);
  await t.throwsAsync(extractInto(host, dest, archive, { confine: true }), {
    message: /leads out of .*dest through a symlink at .*dest\/x/,
  });
  t.false(existsSync(join(elsewhere, "planted")));
});

test("in a container, the same archive lands inside the container, never on the host", async (t) => {
  const dir = temp(t);
  const rootfs = join(dir, "rootfs");
  mkdirSync(join(rootfs, "etc"), { recursive: true });
  mkdirSync(join(rootfs, "srv"));
  const fs = new ContainerFs({ name: "web", rootfs, mounts: [], readOnlyRoot: false });
  const target = `/weft-extract-${process.pid}`;
  mkdirSync(join(rootfs, target.slice(1)));
  // The host has it too, so an archive that escaped would write there rather than fail.
  mkdirSync(target);
  t.teardown(() => rmSync(target, { recursive: true, force: true }));
  const archive = tarOf([{ ...EVIL[0], linkname: target } as never, EVIL[1] as never]);
  await extractInto(fs, "/srv", archive);
  t.is(readFileSync(join(rootfs, target.slice(1), "planted"), "utf8"), "gotcha");
  t.false(existsSync(join(target, "planted")), "the host's path of the same name is untouched");
});

test("a file replaces an existing symlink instead of writing through it; renames; dir over file", async (t) => {
  const dir = temp(t);
  const rootfs = join(dir, "rootfs");
  mkdirSync(join(rootfs, "srv"), { recursive: true });
  writeFileSync(join(rootfs, "precious"), "keep");
  symlinkSync("/precious", join(rootfs, "srv", "conf"));
  const fs = new ContainerFs({ name: "web", rootfs, mounts: [], readOnlyRoot: false });
  await extractInto(fs, "/srv", tarOf([{ name: "conf", content: "new" }]));
  t.is(readFileSync(join(rootfs, "precious"), "utf8"), "keep");
  t.false(lstatSync(join(rootfs, "srv", "conf")).isSymbolicLink());
  t.is(readFileSync(join(rootfs, "srv", "conf"), "utf8"), "new");
  t.is(statSync(join(rootfs, "srv", "conf")).mtimeMs, 1_700_000_000_000, "the archive's time is kept");

  await extractInto(
    fs,
    "/srv",
    tarOf([
      { name: "a", type: "dir" },
      { name: "a/b", content: "b" },
    ]),
    {
      rename: { from: "a", to: "renamed" },
    },
  );
  t.is(readFileSync(join(rootfs, "srv", "renamed", "b"), "utf8"), "b");

  await t.throwsAsync(
    extractInto(fs, "/srv", tarOf([{ name: "conf", type: "dir" }]), { noOverwriteDirNonDir: true }),
    { message: "cannot overwrite non-directory /srv/conf with a directory" },
  );
  t.is(readFileSync(join(rootfs, "srv", "conf"), "utf8"), "new", "nothing lost");
});

// The app's side of the race: a directory of the path swapped for a link to the host and back, as
// fast as a process can (CVE-2018-15664 was this against docker cp).
const SWAPPER = `
const fs = require("node:fs");
const [dir, host] = process.argv.slice(1);
const keep = dir + ".keep";
process.stdout.write("swapping\\n");
for (;;) {
  try { fs.renameSync(dir, keep); } catch {}
  try { fs.symlinkSync(host, dir); } catch {}
  try { fs.unlinkSync(dir); } catch {}
  try { fs.renameSync(keep, dir); } catch {
    // The copy made the directory again while it was away: back to the app's own.
    try { fs.rmSync(dir, { recursive: true, force: true }); fs.renameSync(keep, dir); } catch {}
  }
}`;

test("an app swapping a directory for a link to the host while files are copied in never puts them there", async (t) => {
  const dir = temp(t);
  const rootfs = join(dir, "rootfs");
  const host = join(dir, "host");
  mkdirSync(join(rootfs, "a"), { recursive: true });
  mkdirSync(host);
  const fs = new ContainerFs({ name: "web", rootfs, mounts: [], readOnlyRoot: false });
  const swapper = spawn(process.execPath, ["-e", SWAPPER, join(rootfs, "a"), host], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.teardown(() => swapper.kill("SIGKILL"));
  await once(swapper.stdout, "data");
  let copied = 0;
  let refused = 0;
  for (let round = 0; round < 1000; round++) {
    const files = Array.from({ length: 2 }, (_, i) => ({ name: `a/f${round}-${i}`, content: "x" }));
    try {
      await extractInto(fs, "/", tarOf(files));
      copied++;
    } catch {
      refused++; // a directory swapped mid-copy, or gone for a moment: the copy fails, as it should
    }
  }
  swapper.kill("SIGKILL");
  await once(swapper, "exit");
  t.log(`${copied} copies done, ${refused} refused while the directory was swapped`);
  t.deepEqual(readdirSync(host), [], "nothing reached the host's directory");
  // Once the app stops, the same copy lands where it should.
  rmSync(join(rootfs, "a"), { recursive: true, force: true });
  if (existsSync(join(rootfs, "a.keep"))) renameSync(join(rootfs, "a.keep"), join(rootfs, "a"));
  await extractInto(fs, "/", tarOf([{ name: "a/last", content: "landed" }]));
  t.is(readFileSync(join(rootfs, "a", "last"), "utf8"), "landed");
});

test("device nodes and FIFOs are made with the archive's mode, owner and numbers", async (t) => {
  const dir = temp(t);
  const rootfs = join(dir, "rootfs");
  mkdirSync(join(rootfs, "dev"), { recursive: true });
  const fs = new ContainerFs({ name: "web", rootfs, mounts: [], readOnlyRoot: false });
  await extractInto(
    fs,
    "/dev",
    tarOf([
      { name: "null", type: "char", mode: 0o666, devmajor: 1, devminor: 3 },
      { name: "loop9", type: "block", mode: 0o660, devmajor: 7, devminor: 9, gid: 6 },
      { name: "queue", type: "fifo", mode: 0o622, uid: 33, gid: 33 },
    ]),
    { copyUidGid: true },
  );
  const nul = lstatSync(join(rootfs, "dev", "null"));
  t.true(nul.isCharacterDevice());
  t.is(nul.rdev, (1 << 8) | 3);
  t.is(nul.mode & 0o7777, 0o666, "the umask did not take bits off");
  const loop = lstatSync(join(rootfs, "dev", "loop9"));
  t.true(loop.isBlockDevice());
  t.is(loop.rdev, (7 << 8) | 9);
  t.is(loop.gid, 6);
  const fifo = lstatSync(join(rootfs, "dev", "queue"));
  t.true(fifo.isFIFO());
  t.is(fifo.mode & 0o7777, 0o622);
  t.is(fifo.uid, 33);
  t.is(fifo.mtimeMs, 1_700_000_000_000);
});
