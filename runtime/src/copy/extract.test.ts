// Unpacking an archive: never through a link to outside the container, on the host never past the
// destination, never writing through an existing symlink; renames and Docker's dir/non-dir rule.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
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
