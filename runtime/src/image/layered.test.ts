import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { ImageStore, mountOverlay, unmount } from "./index";
import { makeLayer, tarFolder, writeDockerSave, writeOciLayout } from "./oci-fixture";

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "wt-layered-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const config = {
  Env: ["PATH=/bin", "GREETING=hi"],
  Cmd: ["serve", "--port", "80"],
  Entrypoint: ["/bin/app"],
  WorkingDir: "/srv",
  User: "1000:1000",
  ExposedPorts: { "80/tcp": {}, "53/udp": {} },
  Labels: { "org.example.team": "shop" },
};

const base = makeLayer({ "bin/app": "#!/bin/sh\n", "etc/passwd": "root:x:0:0::/:/bin/sh\n" });
const top = makeLayer({ "srv/index.html": "hello\n" }, { gzip: false });

test("an OCI layout (folder and tar) imports with its layers and config", async (t) => {
  const dir = tempDir(t);
  const layout = writeOciLayout(join(dir, "oci"), [{ tags: ["shop/web:1"], layers: [base, top], config }]);
  const store = new ImageStore(join(dir, "images"));
  const rec = await store.import(layout, "web");
  t.is(rec.layers.length, 2);
  t.is(rec.layers[0], join(dir, "images", "layers", top.diffId.slice(7)), "top layer first");
  t.is(rec.layers[1], join(dir, "images", "layers", base.diffId.slice(7)));
  t.deepEqual(rec.diffIds, [base.diffId, top.diffId]);
  t.is(readFileSync(join(rec.layers[0]!, "srv/index.html"), "utf8"), "hello\n");
  t.is(rec.rootfs, rec.layers[1]!, "the layer holding /etc/passwd");
  t.deepEqual(rec.config, {
    env: ["PATH=/bin", "GREETING=hi"],
    cmd: ["serve", "--port", "80"],
    entrypoint: ["/bin/app"],
    workdir: "/srv",
    user: "1000:1000",
    exposedPorts: ["80/tcp", "53/udp"],
    labels: { "org.example.team": "shop" },
  });
  t.is(rec.created, "2026-01-02T03:04:05.000Z");
  t.is(rec.sizeBytes, "#!/bin/sh\n".length + "root:x:0:0::/:/bin/sh\n".length + "hello\n".length);
  // The same layout as a tar: same id, nothing unpacked again.
  const again = await store.import(tarFolder(layout, join(dir, "oci.tar")), "web-from-tar");
  t.is(again.id, rec.id);
  t.is(readdirSync(join(dir, "images", "layers")).filter((n) => !n.endsWith(".json")).length, 2);
});

test("a docker save tar imports; several images: NAME picks one, no NAME imports every tag", async (t) => {
  const dir = tempDir(t);
  const other = makeLayer({ "other.txt": "2\n" });
  const saved = writeDockerSave(join(dir, "save"), [
    { tags: ["shop/web:1", "shop/web:latest"], layers: [base, top], config },
    { tags: ["busybox:latest"], layers: [other], config: { Cmd: ["sh"] } },
  ]);
  const tar = tarFolder(saved, join(dir, "save.tar"));
  const store = new ImageStore(join(dir, "images"));
  const picked = await store.import(tar, "docker.io/library/busybox");
  t.deepEqual(picked.config.cmd, ["sh"]);
  t.is(picked.layers.length, 1);
  // Stored as Docker means the name.
  t.deepEqual(
    store.list().map((i) => i.name),
    ["busybox:latest"],
  );
  const err = await t.throwsAsync(store.import(tar, "nope"));
  t.is((err as { code?: string }).code, "IMAGE_NOT_FOUND");
  t.regex(
    err?.message ?? "",
    /none is tagged "nope:latest"; name one of: shop\/web:1, shop\/web:latest, busybox:latest/,
  );

  const all = await store.importImages(tar);
  t.deepEqual(all.map((i) => i.name).sort(), ["busybox:latest", "shop/web:1", "shop/web:latest"]);
  const web = store.get("shop/web:1");
  t.is(web.id, store.get("shop/web:latest").id);
  t.deepEqual(web.config.entrypoint, ["/bin/app"]);
  t.is(readFileSync(join(web.layers[0]!, "srv/index.html"), "utf8"), "hello\n");
});

test("two images sharing a base layer unpack it once; removal deletes only unused layers", async (t) => {
  const dir = tempDir(t);
  const layersDir = join(dir, "images", "layers");
  const a = writeOciLayout(join(dir, "a"), [{ tags: ["a:1"], layers: [base, top] }]);
  const b = writeDockerSave(join(dir, "b"), [
    { tags: ["b:1"], layers: [base, makeLayer({ "b.txt": "b\n" })], config: { Cmd: ["b"] } },
  ]);
  const store = new ImageStore(join(dir, "images"));
  const ra = await store.import(a, "a");
  const rb = await store.import(tarFolder(b, join(dir, "b.tar")), "b");
  t.is(ra.layers[1], rb.layers[1], "one base dir for both");
  const ino = (p: string) => statSync(join(p, "bin/app")).ino;
  t.is(ino(ra.layers[1]!), ino(rb.layers[1]!));
  const dirs = () => readdirSync(layersDir).filter((n) => /^[0-9a-f]{64}$/.test(n));
  t.is(dirs().length, 3, "base + two tops");

  await store.remove("a");
  t.deepEqual(dirs().sort(), rb.diffIds.map((d) => d.slice(7)).sort());
  t.true(existsSync(rb.layers[1]!), "the base stays while b uses it");
  await store.remove("b");
  t.deepEqual(dirs(), []);
  t.deepEqual(readdirSync(layersDir), [], "layer metadata goes too");
  t.deepEqual(
    readdirSync(join(dir, "images")).filter((n) => n !== "layers"),
    ["index.json"],
  );
});

test("whiteouts and opaque dirs hide lower files in a real overlay", async (t) => {
  const dir = tempDir(t);
  const l1 = makeLayer({ a: "a\n", "d/x": "x\n", "keep/k": "k\n" });
  const l2 = makeLayer({ ".wh.a": "", "d/.wh..wh..opq": "", "d/y": "y\n" });
  const store = new ImageStore(join(dir, "images"));
  const rec = await store.import(writeOciLayout(join(dir, "oci"), [{ tags: [], layers: [l1, l2] }]), "wh");
  const upperLayer = rec.layers[0]!;
  const dev = statSync(join(upperLayer, "a"));
  t.true(dev.isCharacterDevice());
  t.is(dev.rdev, 0);
  t.false(existsSync(join(upperLayer, ".wh.a")));
  t.false(existsSync(join(upperLayer, "d", ".wh..wh..opq")));
  t.is(
    execFileSync("getfattr", [
      "--absolute-names",
      "--only-values",
      "-n",
      "trusted.overlay.opaque",
      join(upperLayer, "d"),
    ]).toString(),
    "y",
  );

  const merged = join(dir, "merged");
  t.teardown(() => unmount(merged));
  await mountOverlay({
    lower: rec.layers,
    upper: join(dir, "upper"),
    work: join(dir, "work"),
    target: merged,
  });
  t.false(existsSync(join(merged, "a")), "/a is whited out");
  t.false(existsSync(join(merged, "d", "x")), "/d is opaque");
  t.is(readFileSync(join(merged, "d", "y"), "utf8"), "y\n");
  t.is(readFileSync(join(merged, "keep", "k"), "utf8"), "k\n");
  await unmount(merged);
});

test("the newer docker save (an OCI layout with a manifest.json) imports under its RepoTags", async (t) => {
  const dir = tempDir(t);
  const layer = makeLayer({ "srv/new": "new\n" }, { gzip: false });
  const layout = writeOciLayout(join(dir, "save"), [
    { tags: ["docker.io/library/app:2"], layers: [layer], config },
  ]);
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
  const manifestDigest: string = index.manifests[0].digest;
  const manifest = JSON.parse(readFileSync(join(layout, "blobs/sha256", manifestDigest.slice(7)), "utf8"));
  const blob = (d: string) => `blobs/sha256/${d.slice(7)}`;
  writeFileSync(
    join(layout, "manifest.json"),
    JSON.stringify([
      {
        Config: blob(manifest.config.digest),
        RepoTags: ["app:2"],
        Layers: [blob(layer.digest)],
        LayerSources: {
          [layer.digest]: { mediaType: layer.mediaType, size: layer.blob.length, digest: layer.digest },
        },
      },
    ]),
  );
  const store = new ImageStore(join(dir, "images"));
  const [rec, ...more] = await store.importImages(tarFolder(layout, join(dir, "save.tar")));
  t.is(more.length, 0);
  t.is(rec?.name, "app:2");
  t.is(rec?.id, manifest.config.digest.slice(7));
  t.deepEqual(rec?.config.cmd, ["serve", "--port", "80"]);
  t.is(readFileSync(join(rec!.layers[0]!, "srv/new"), "utf8"), "new\n");
});

test("an image's HEALTHCHECK and STOPSIGNAL are kept; a malformed Healthcheck is refused naming the field", async (t) => {
  const dir = tempDir(t);
  const healthy = {
    ...config,
    Healthcheck: { Test: ["CMD-SHELL", "test -f /ready"], Interval: 2_000_000_000, Retries: 5 },
    StopSignal: "SIGQUIT",
  };
  const layout = writeOciLayout(join(dir, "oci"), [{ tags: ["hc:1"], layers: [base], config: healthy }]);
  const store = new ImageStore(join(dir, "images"));
  const rec = await store.import(layout, "hc");
  t.deepEqual(rec.config.healthcheck, {
    test: ["CMD-SHELL", "test -f /ready"],
    intervalNs: 2_000_000_000,
    retries: 5,
  });
  t.is(rec.config.stopSignal, "SIGQUIT");
  t.deepEqual(store.get("hc").config.healthcheck, rec.config.healthcheck, "read back from the store");

  const bad = writeOciLayout(join(dir, "bad"), [
    { tags: ["bad:1"], layers: [base], config: { ...config, Healthcheck: { Test: ["RUN", "x"] } } },
  ]);
  const err = await t.throwsAsync(store.import(bad, "bad"));
  t.regex(
    err?.message ?? "",
    /config\.Healthcheck\.Test must be a list starting with "CMD", "CMD-SHELL" or "NONE"/,
  );
  t.throws(() => store.get("bad"), undefined, "nothing stored for the bad image");
});
