import { createHash } from "node:crypto";
import test from "ava";
import { END_OF_ARCHIVE, entryHeader, padding, type TarEntry } from "../../copy/tar";
import { hashTar, stepKey } from "./cache-key";

function file(name: string, text: string, o: Partial<TarEntry> = {}): Buffer {
  const data = Buffer.from(text);
  const e: TarEntry = {
    name,
    type: "file",
    mode: 0o644,
    uid: 1000,
    gid: 1000,
    size: data.length,
    mtime: 1_700_000_000,
    linkname: "",
    devmajor: 0,
    devminor: 0,
    ...o,
  };
  return Buffer.concat([entryHeader(e), data, padding(data.length)]);
}

async function digest(tar: Buffer, chunk = tar.length): Promise<string> {
  const hash = createHash("sha256");
  async function* chunks() {
    for (let at = 0; at < tar.length; at += chunk) yield tar.subarray(at, at + chunk);
  }
  await hashTar(hash, chunks());
  return hash.digest("hex");
}

test("a context's files hash the same after a checkout or a copy: times and owners do not count", async (t) => {
  const a = Buffer.concat([file("app.js", "console.log(1)\n"), file("conf/a.conf", "x=1\n"), END_OF_ARCHIVE]);
  const touched = Buffer.concat([
    file("app.js", "console.log(1)\n", { mtime: 1_800_000_000, uid: 0, gid: 0 }),
    file("conf/a.conf", "x=1\n", { mtime: 1_800_000_001 }),
    END_OF_ARCHIVE,
  ]);
  t.is(await digest(a), await digest(touched));
  // However the stream is cut into chunks.
  t.is(await digest(a, 7), await digest(a));
  t.is(await digest(a, 512), await digest(a));
  t.is(await digest(a, 1000), await digest(a));
});

test("what lands in the image changes the hash: contents, names and modes", async (t) => {
  const base = await digest(Buffer.concat([file("app.js", "console.log(1)\n"), END_OF_ARCHIVE]));
  for (const other of [
    file("app.js", "console.log(2)\n"),
    file("app.jsx", "console.log(1)\n"),
    file("app.js", "console.log(1)\n", { mode: 0o755 }),
  ])
    t.not(await digest(Buffer.concat([other, END_OF_ARCHIVE])), base);
  // A long name goes through a PAX header: from there the stream is hashed whole, still the same
  // for the same files and different for others.
  const long = `${"d/".repeat(150)}f.txt`;
  const p1 = await digest(Buffer.concat([file(long, "1"), END_OF_ARCHIVE]));
  t.is(await digest(Buffer.concat([file(long, "1"), END_OF_ARCHIVE]), 100), p1);
  t.not(await digest(Buffer.concat([file(long, "2"), END_OF_ARCHIVE])), p1);
});

test("a step's key is its parts, in order", (t) => {
  t.is(stepKey({ parent: "a", step: { run: ["x"] } }), stepKey({ parent: "a", step: { run: ["x"] } }));
  t.not(stepKey({ parent: "a", step: { run: ["x"] } }), stepKey({ parent: "b", step: { run: ["x"] } }));
  t.regex(stepKey({}), /^[0-9a-f]{64}$/);
});
