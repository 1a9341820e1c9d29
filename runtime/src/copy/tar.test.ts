// The tar codec against GNU tar: what weft writes GNU tar lists and unpacks, what GNU tar writes (its
// long names, PAX headers) weft reads; and a stream cut short or not a tar at all is an error.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { ContainerFs } from "./container-fs";
import { packPath } from "./pack";
import { END_OF_ARCHIVE, entryHeader, readTar, type TarEntry, TarFormatError } from "./tar";

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "weft-tar-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const host = () => new ContainerFs({ name: "host", rootfs: "/", mounts: [], readOnlyRoot: false });

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of gen) parts.push(b);
  return Buffer.concat(parts);
}

async function entries(tar: Buffer): Promise<Array<TarEntry & { content: string }>> {
  const out: Array<TarEntry & { content: string }> = [];
  for await (const { entry, body } of readTar([tar]))
    out.push({ ...entry, content: (await collect(body)).toString() });
  return out;
}

const LONG = `${"deep/".repeat(30)}name-that-is-long.txt`;

test("GNU tar lists and unpacks what packPath writes: long names, symlinks, hard links, modes", async (t) => {
  const dir = tempDir(t);
  const src = join(dir, "tree");
  mkdirSync(join(src, "deep/".repeat(30)), { recursive: true });
  writeFileSync(join(src, LONG), "long");
  writeFileSync(join(src, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
  symlinkSync("run.sh", join(src, "link"));
  execFileSync("ln", [join(src, "run.sh"), join(src, "hard")]);
  const tar = await collect(packPath(host(), src).tar);
  writeFileSync(join(dir, "out.tar"), tar);
  const listed = execFileSync("tar", ["-tvf", join(dir, "out.tar")], { encoding: "utf8" });
  // Sorted, "hard" comes first: it holds the content and run.sh repeats it.
  t.regex(listed, /^-rwxr-xr-x .* tree\/hard$/m);
  t.regex(listed, /tree\/link -> run\.sh/);
  t.regex(listed, /^hrwxr-xr-x .* tree\/run\.sh link to tree\/hard$/m);
  t.true(listed.includes(`tree/${LONG}`), "a name longer than ustar's fields survives");
  mkdirSync(join(dir, "x"));
  execFileSync("tar", ["-xf", join(dir, "out.tar"), "-C", join(dir, "x")]);
  t.is(readFileSync(join(dir, "x", "tree", LONG), "utf8"), "long");
});

test("readTar reads GNU tar's own archives, gnu and pax formats", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "src", "deep/".repeat(30)), { recursive: true });
  writeFileSync(join(dir, "src", LONG), "long");
  for (const format of ["gnu", "pax"]) {
    const file = join(dir, `${format}.tar`);
    execFileSync("tar", [`--format=${format}`, "-cf", file, "-C", join(dir, "src"), "."]);
    const got = await entries(readFileSync(file));
    const long = got.find((e) => e.name === LONG);
    t.is(long?.content, "long", format);
    t.is(long?.type, "file");
    t.is(got[0]?.name, ".", `${format}: the top directory`);
    t.is(got[0]?.type, "dir");
  }
});

test("a header written and read back keeps every field", async (t) => {
  const e: TarEntry = {
    name: "etc/app.conf",
    type: "file",
    mode: 0o4755,
    uid: 3_000_000, // above ustar's 7 octal digits: PAX
    gid: 42,
    size: 3,
    mtime: 1_700_000_000,
    linkname: "",
    devmajor: 0,
    devminor: 0,
  };
  const tar = Buffer.concat([entryHeader(e), Buffer.from("abc"), Buffer.alloc(509), END_OF_ARCHIVE]);
  const [got] = await entries(tar);
  t.deepEqual(got, { ...e, content: "abc" });
});

test("a truncated stream, a bad checksum and an unknown type are errors that say so", async (t) => {
  const e: TarEntry = {
    name: "f",
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 1000,
    mtime: 0,
    linkname: "",
    devmajor: 0,
    devminor: 0,
  };
  const header = entryHeader(e);
  const cut = Buffer.concat([header, Buffer.alloc(100)]);
  await t.throwsAsync(entries(cut), { instanceOf: TarFormatError, message: /ends inside f/ });
  const bad = Buffer.from(header);
  bad[0] = 0x67;
  await t.throwsAsync(entries(bad), { instanceOf: TarFormatError, message: /checksum is wrong/ });
  await t.throwsAsync(entries(Buffer.from("not a tar".padEnd(512, "x"))), { instanceOf: TarFormatError });
  // An extended header that claims 1 GiB is refused before anything is read into memory.
  const huge = Buffer.from(entryHeader({ ...e, name: "x".repeat(120) }));
  huge.write((2 ** 30).toString(8).padStart(11, "0"), 124, 11, "ascii");
  huge.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += huge[i] as number;
  huge.write(sum.toString(8).padStart(6, "0"), 148, 6, "ascii");
  huge[154] = 0;
  await t.throwsAsync(entries(huge), {
    instanceOf: TarFormatError,
    message: /an extended header of 1073741824 bytes/,
  });
});
