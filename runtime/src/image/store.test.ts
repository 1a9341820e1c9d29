import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { ImageError, type ImageErrorCode, ImageStore } from "./index";
import { buildBusyboxTarball, buildRawTarball } from "./rootfs-fixture";

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "wt-image-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function importError(store: ImageStore, tar: string, name: string): Promise<ImageError> {
  const err = await store.import(tar, name).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ImageError)) throw new Error(`expected an ImageError, got ${String(err)}`);
  return err;
}

/** Only the index, the tmp-free content folders and nothing half-extracted. */
function storeEntries(dir: string): string[] {
  return readdirSync(join(dir, "images")).sort();
}

test("a gzip rootfs tarball imports, lists and resolves by name", async (t) => {
  const dir = tempDir(t);
  const tar = buildBusyboxTarball(dir, "busybox.tar.gz");
  const store = new ImageStore(join(dir, "images"));
  const rec = await store.import(tar, "test/busybox:1");
  t.regex(rec.id, /^[0-9a-f]{64}$/);
  t.is(rec.rootfs, join(dir, "images", rec.id, "rootfs"));
  t.true(readFileSync(join(rec.rootfs, "etc/passwd"), "utf8").startsWith("root:x:0:0"));
  t.is(readFileSync(join(rec.rootfs, "bin/busybox")).length, readFileSync("/bin/busybox").length);
  t.true(rec.sizeBytes >= readFileSync("/bin/busybox").length);
  t.deepEqual(rec.config, {
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    cmd: ["/bin/sh"],
    entrypoint: [],
    workdir: "/",
    user: "0",
    exposedPorts: [],
    labels: {},
  });
  t.deepEqual(rec.layers, [rec.rootfs], "a plain rootfs is a single layer");
  t.deepEqual(
    store.list().map((r) => [r.name, r.id]),
    [["test/busybox:1", rec.id]],
  );
  t.deepEqual(store.get("test/busybox:1"), rec);
  // A fresh store over the same folder sees the same thing (state is on disk).
  t.deepEqual(new ImageStore(join(dir, "images")).get("test/busybox:1"), rec);
});

test("names mean what they mean to Docker: 'shop' is 'shop:latest', also in a store written before", async (t) => {
  const dir = tempDir(t);
  const store = new ImageStore(join(dir, "images"));
  const rec = await store.import(buildBusyboxTarball(dir, "b.tar"), "shop");
  t.is(rec.name, "shop:latest");
  t.deepEqual(
    store.list().map((r) => r.name),
    ["shop:latest"],
  );
  for (const name of ["shop", "shop:latest", "docker.io/library/shop", "docker.io/library/shop:latest"]) {
    t.is(store.get(name).id, rec.id, name);
  }
  t.is(store.get("shop").name, "shop:latest");
  t.is(t.throws(() => store.get("shop:2"), { instanceOf: ImageError })?.code, "IMAGE_NOT_FOUND");

  // An index from before: bare names are read as ':latest' and stay usable; removal forgets them.
  const index = join(dir, "images", "index.json");
  writeFileSync(index, JSON.stringify({ images: { web: rec.id, "api:2": rec.id } }));
  t.deepEqual(
    store.list().map((r) => r.name),
    ["api:2", "web:latest"],
  );
  t.is(store.get("web").id, rec.id);
  await store.remove("web:latest");
  t.deepEqual(JSON.parse(readFileSync(index, "utf8")), { images: { "api:2": rec.id } });
});

test("an unknown name says how to import it, and bad names are refused", async (t) => {
  const store = new ImageStore(join(tempDir(t), "images"));
  const err = t.throws(() => store.get("nope"), { instanceOf: ImageError });
  t.is(err?.code, "IMAGE_NOT_FOUND");
  t.is(err?.message, `image "nope" not found; import it with 'weft image import FILE.tar nope'`);
  for (const bad of ["Busybox", "a b", "", "-x", "x;y"]) {
    t.is(t.throws(() => store.get(bad), { instanceOf: ImageError })?.code, "BAD_NAME", bad);
  }
});

test("the id 'weft image ls' prints names an image too, as in Docker; a name wins over an id", async (t) => {
  const dir = tempDir(t);
  const store = new ImageStore(join(dir, "images"));
  const v1 = await store.import(buildBusyboxTarball(dir, "v1.tar"), "app");
  const v2 = await store.import(buildRawTarball(join(dir, "v2.tar"), [{ name: "v2", content: "2" }]), "next");
  for (const ref of [v1.id.slice(0, 12), v1.id, `sha256:${v1.id}`, `sha256:${v1.id.slice(0, 12)}`]) {
    t.is(store.get(ref).name, "app:latest", ref);
  }
  t.is((await store.tag(v2.id.slice(0, 12), "app:v2")).id, v2.id);
  // A name that looks like an id is still a name first.
  const hexName = v2.id.slice(0, 8);
  await store.tag("app", hexName);
  t.is(store.get(hexName).id, v1.id);
  t.is(store.get(`sha256:${hexName}`).id, v2.id, "sha256: is an id, never a name");

  const unknown = t.throws(() => store.get("ffffffffffff"), { instanceOf: ImageError });
  t.is(unknown?.code, "IMAGE_NOT_FOUND");
  t.is(unknown?.message, `image "ffffffffffff" not found; list images and their ids with 'weft image ls'`);
  // Three hex digits are too few to be an id: a name, unknown.
  t.is(t.throws(() => store.get(v1.id.slice(0, 3)), { instanceOf: ImageError })?.code, "IMAGE_NOT_FOUND");
  const ids = [v1.id, v2.id];
  let common = 0;
  while (ids[0]?.[common] === ids[1]?.[common]) common++;
  if (common >= 4) {
    t.is(t.throws(() => store.get(v1.id.slice(0, common)), { instanceOf: ImageError })?.code, "BAD_NAME");
  }

  // By id, remove refuses an image with several names (Docker wants -f), and takes one with one.
  const several = await store.remove(v1.id.slice(0, 12)).catch((e: ImageError) => e);
  t.is(several?.code, "IMAGE_IN_USE");
  const v1Names = ["app:latest", `${hexName}:latest`].sort().join(", ");
  t.is(
    several?.message,
    `image ${v1.id.slice(0, 12)} has several names (${v1Names}); remove each by name ('weft image rm ${v1Names.replace(", ", " ")}')`,
  );
  t.deepEqual(
    store.list().map((i) => i.name),
    ["app:latest", "app:v2", `${hexName}:latest`, "next:latest"].sort(),
    "nothing removed",
  );
  await store.remove("app:v2");
  await store.remove(v2.id.slice(0, 12));
  t.deepEqual(
    store.list().map((i) => i.name),
    ["app:latest", `${hexName}:latest`].sort(),
  );
  t.true(existsSync(v1.rootfs));
  t.false(existsSync(v2.rootfs), "its last name went with the id");
});

test("bad archives fail with their code and leave the earlier image intact", async (t) => {
  const dir = tempDir(t);
  const good = buildBusyboxTarball(dir);
  const store = new ImageStore(join(dir, "images"));
  const before = await store.import(good, "app");
  const entriesBefore = storeEntries(dir);

  // Cut at a member boundary (tar itself lists this without complaint) and in the middle of a file.
  const atBoundary = join(dir, "boundary.tar");
  copyFileSync(good, atBoundary);
  truncateSync(atBoundary, 3072);
  const midFile = join(dir, "mid.tar");
  copyFileSync(good, midFile);
  truncateSync(midFile, 200_000);
  const gz = buildBusyboxTarball(dir, "busybox.tgz");
  truncateSync(gz, 300_000);
  const notTar = join(dir, "not.tar");
  buildRawTarball(notTar, []);
  truncateSync(notTar, 0);

  const cases: Array<[string, ImageErrorCode]> = [
    [atBoundary, "BAD_ARCHIVE"],
    [midFile, "BAD_ARCHIVE"],
    [gz, "BAD_ARCHIVE"],
    [notTar, "BAD_ARCHIVE"],
    [join(dir, "missing.tar"), "BAD_ARCHIVE"],
    [buildRawTarball(join(dir, "dotdot.tar"), [{ name: "../evil", content: "x" }]), "UNSAFE_PATH"],
    [buildRawTarball(join(dir, "nested.tar"), [{ name: "etc/../../evil", content: "x" }]), "UNSAFE_PATH"],
    [buildRawTarball(join(dir, "abs.tar"), [{ name: "/etc/evil", content: "x" }]), "UNSAFE_PATH"],
    [
      buildRawTarball(join(dir, "hard.tar"), [{ name: "passwd", hardlink: "../../../../etc/passwd" }]),
      "UNSAFE_PATH",
    ],
    [
      buildRawTarball(join(dir, "under-link.tar"), [
        { name: "escape", symlink: dir },
        { name: "escape/planted", content: "x" },
      ]),
      "UNSAFE_PATH",
    ],
  ];
  for (const [tar, code] of cases) {
    const err = await importError(store, tar, "app");
    t.is(err.code, code, `${tar}: ${err.message}`);
  }
  t.false(existsSync(join(dir, "planted")));
  t.false(existsSync(join(dir, "evil")));
  t.deepEqual(store.get("app"), before);
  t.deepEqual(storeEntries(dir), entriesBefore);
});

test("symlinks pointing anywhere are kept as symlinks", async (t) => {
  const dir = tempDir(t);
  const tar = buildRawTarball(join(dir, "links.tar"), [
    { name: "etc/localtime", symlink: "/usr/share/zoneinfo/UTC" },
    { name: "lib", symlink: "usr/lib" },
    { name: "usr/lib/x", content: "y" },
    { name: "usr/lib/y", hardlink: "usr/lib/x" },
    { name: 'odd "name" -> x\nz', content: "odd" },
  ]);
  const rec = await new ImageStore(join(dir, "images")).import(tar, "links");
  t.is(readdirSync(join(rec.rootfs, "usr/lib")).sort().join(","), "x,y");
  t.is(readFileSync(join(rec.rootfs, "usr/lib/y"), "utf8"), "y");
  t.is(readFileSync(join(rec.rootfs, 'odd "name" -> x\nz'), "utf8"), "odd");
});

test("re-importing a name re-points it and keeps the old content; remove deletes unused content", async (t) => {
  const dir = tempDir(t);
  const store = new ImageStore(join(dir, "images"));
  const v1 = await store.import(buildBusyboxTarball(dir, "v1.tar"), "app");
  const v2 = await store.import(buildRawTarball(join(dir, "v2.tar"), [{ name: "v2", content: "2" }]), "app");
  t.not(v1.id, v2.id);
  t.is(store.get("app").id, v2.id);
  t.true(existsSync(v1.rootfs), "a container may still use the old rootfs");
  // Same tarball again: same id, nothing extracted twice.
  t.is((await store.import(join(dir, "v2.tar"), "other")).id, v2.id);
  await store.remove("app");
  t.true(existsSync(v2.rootfs), "still named 'other'");
  await store.remove("other");
  t.false(existsSync(v2.rootfs));
  t.deepEqual(store.list(), []);
  t.is((await store.remove("other").catch((e: ImageError) => e))?.code, "IMAGE_NOT_FOUND");
});

test("tag gives an image another name, as Docker's; re-pointing a name keeps the old content", async (t) => {
  const dir = tempDir(t);
  const store = new ImageStore(join(dir, "images"));
  const v1 = await store.import(buildBusyboxTarball(dir, "v1.tar"), "app");
  const tagged = await store.tag("app", "app:v1");
  t.is(tagged.name, "app:v1");
  t.is(tagged.id, v1.id);
  t.deepEqual(
    store.list().map((i) => [i.name, i.id]),
    [
      ["app:latest", v1.id],
      ["app:v1", v1.id],
    ],
  );
  const v2 = await store.import(buildRawTarball(join(dir, "v2.tar"), [{ name: "v2", content: "2" }]), "next");
  await store.tag("next", "app");
  t.is(store.get("app").id, v2.id);
  t.true(existsSync(v1.rootfs), "app:v1 still names it");
  await store.remove("app:v1");
  t.false(existsSync(v1.rootfs), "no name left for it");
  t.true(existsSync(v2.rootfs));
  const refused = (source: string, target: string) =>
    store.tag(source, target).then(
      () => undefined,
      (e: ImageError) => e.code,
    );
  t.is(await refused("nope", "x"), "IMAGE_NOT_FOUND");
  t.is(await refused("app", "Bad Name"), "BAD_NAME");
});

test("what an interrupted import, commit or save left is swept at start; images and layers stay", async (t) => {
  const dir = tempDir(t);
  const storeDir = join(dir, "images");
  const store = new ImageStore(storeDir);
  const image = await store.import(buildBusyboxTarball(dir), "bbox");
  // What a daemon killed mid-way leaves: temp dirs of the store and of its layer store.
  for (const name of [".archive-1a2b", ".commit-3c4d", ".scratch-5e6f", ".meta-7a8b"])
    mkdirSync(join(storeDir, name, "deep"), { recursive: true });
  writeFileSync(join(storeDir, ".index-42-ab.json"), "{}");
  mkdirSync(join(storeDir, "layers", ".tmp-9c0d"), { recursive: true });
  const removed = new ImageStore(storeDir).sweepLeftovers();
  t.is(removed.length, 6);
  t.deepEqual(
    readdirSync(storeDir).filter((n) => n.startsWith(".")),
    [],
  );
  t.deepEqual(
    readdirSync(join(storeDir, "layers")).filter((n) => n.startsWith(".")),
    [],
  );
  t.is(new ImageStore(storeDir).get("bbox").id, image.id, "the image is untouched");
});

test("the build cache keeps a step's image without a name until pruned; a broken cache file only misses", async (t) => {
  const dir = tempDir(t);
  const store = new ImageStore(join(dir, "images"));
  const base = await store.import(buildBusyboxTarball(dir, "base.tar"), "base");
  const layer = buildRawTarball(join(dir, "layer.tar"), [{ name: "made-by-run", content: "x".repeat(5000) }]);
  const step = await store.commit("weft-build-1", {
    base,
    config: base.config,
    writeLayers: async () => [{ path: layer, what: "the step's changes" }],
  });
  const key = "a".repeat(64);
  t.is(await store.cachedStep(key, "weft-build-2"), undefined, "nothing cached yet");
  await store.rememberStep(key, step.id);
  await store.remove("weft-build-1");
  const [own] = store.buildCacheUsage().entries;
  t.is(own?.id, step.id);
  t.is(own?.bytes, 5000, "the layer the step added, which only the cache keeps");

  const hit = await store.cachedStep(key, "weft-build-3");
  t.is(hit?.id, step.id, "the unnamed content is still there, and takes the name");
  t.true(existsSync(hit?.layers[0] ?? "/nonexistent"));
  await store.remove("weft-build-3");
  t.is(store.buildCacheUsage().bytes, 5000);

  const pruned = await store.pruneBuildCache();
  t.is(pruned.entries.length, 1);
  t.is(pruned.bytes, 5000);
  t.deepEqual(store.buildCacheUsage(), { entries: [], bytes: 0 });
  t.false(existsSync(hit?.layers[0] ?? "/"), "the layer only the cache kept is gone");
  t.is(store.get("base").id, base.id, "images keep theirs");
  t.is(await store.cachedStep(key, "weft-build-4"), undefined);

  // A cache file that cannot be read is a cache that misses, not a store that fails.
  await store.rememberStep(key, base.id);
  writeFileSync(join(dir, "images", "build-cache.json"), "{not json");
  t.is(await store.cachedStep(key, "weft-build-5"), undefined);
  await store.rememberStep(key, base.id);
  t.is((await store.cachedStep(key, "weft-build-6"))?.id, base.id, "and is written afresh");
});
