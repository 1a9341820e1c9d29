// Bad image archives: each fails with a code and a message naming the cause, and the store is
// exactly as it was before (no temp dirs, no new layers, the earlier image intact).
import { execFileSync } from "node:child_process";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import test from "ava";
import { ImageError, type ImageErrorCode, ImageStore } from "./index";
import {
  blobFile,
  type FixtureImage,
  fromTar,
  makeLayer,
  tarFolder,
  writeDockerSave,
  writeOciLayout,
} from "./oci-fixture";
import { buildRawTarball } from "./rootfs-fixture";

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((p) => relative(dir, join(dir, p)))
    .sort();
}

const good = makeLayer({ "etc/passwd": "root:x:0:0::/:/bin/sh\n", "bin/x": "x" });
const fresh = () => makeLayer({ [`new-${Math.random()}`]: "n" });

test("corrupt, truncated, missing and escaping content is refused and nothing changes", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "wt-badimg-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new ImageStore(join(dir, "images"));
  const before = await store.import(writeOciLayout(join(dir, "ok"), [{ tags: [], layers: [good] }]), "app");
  const snapshot = tree(join(dir, "images"));
  let n = 0;
  const oci = (images: FixtureImage[]) => writeOciLayout(join(dir, `case-${n++}`), images);

  const cases: Array<[string, () => string, ImageErrorCode, RegExp]> = [
    [
      "a layer blob whose bytes do not match its digest",
      () => {
        const l = fresh();
        const d = oci([{ tags: [], layers: [good, l] }]);
        const f = blobFile(d, l.digest);
        const b = readFileSync(f);
        b[b.length - 5] = (b[b.length - 5] ?? 0) ^ 0xff;
        writeFileSync(f, b);
        return d;
      },
      "BAD_DIGEST",
      /layer 2 of image "app:latest": blob content has sha256:[0-9a-f]{64} but the manifest names it sha256:/,
    ],
    [
      "a truncated layer blob (after a new layer that was already unpacked)",
      () => {
        const l = fresh();
        const d = oci([{ tags: [], layers: [fresh(), l] }]);
        truncateSync(blobFile(d, l.digest), 20);
        return d;
      },
      "BAD_DIGEST",
      /layer 2 of image "app:latest": blob sha256:[0-9a-f]{64} has 20 bytes but the manifest says \d+: it is truncated/,
    ],
    [
      "a missing layer blob",
      () => {
        const l = fresh();
        const d = oci([{ tags: [], layers: [l] }]);
        unlinkSync(blobFile(d, l.digest));
        return d;
      },
      "BAD_ARCHIVE",
      /layer 1 of image "app:latest": blob sha256:[0-9a-f]{64} is missing from the archive/,
    ],
    [
      "an index pointing to a manifest that is not there",
      () => {
        const d = oci([{ tags: [], layers: [fresh()] }]);
        const index = JSON.parse(readFileSync(join(d, "index.json"), "utf8"));
        index.manifests[0].digest = `sha256:${"ab".repeat(32)}`;
        writeFileSync(join(d, "index.json"), JSON.stringify(index));
        return d;
      },
      "BAD_ARCHIVE",
      /points to blob sha256:(ab){32}, which is not in the archive/,
    ],
    [
      "a diff_id that does not match the uncompressed layer",
      () => oci([{ tags: [], layers: [fresh()], diffIds: [`sha256:${"cd".repeat(32)}`] }]),
      "BAD_DIGEST",
      /the uncompressed layer has sha256:[0-9a-f]{64} but the image config's diff_id is sha256:(cd){32}/,
    ],
    [
      "a layer with a ../ path",
      () => {
        const tar = readFileSync(
          buildRawTarball(join(dir, `evil-${n}.tar`), [{ name: "../evil", content: "x" }]),
        );
        return oci([{ tags: [], layers: [fresh(), fromTar(tar, true)] }]);
      },
      "UNSAFE_PATH",
      /member "..\/evil" has a ".." component/,
    ],
    [
      "a layer with a member under an absolute symlink",
      () => {
        const tar = readFileSync(
          buildRawTarball(join(dir, `link-${n}.tar`), [
            { name: "etc", symlink: "/etc" },
            { name: "etc/cron.d/evil", content: "x" },
          ]),
        );
        return oci([{ tags: [], layers: [fromTar(tar, false)] }]);
      },
      "UNSAFE_PATH",
      /lies beneath the symlink "etc"/,
    ],
    [
      "a layer with a hard link out of the tree",
      () => {
        const tar = readFileSync(
          buildRawTarball(join(dir, `hard-${n}.tar`), [{ name: "p", hardlink: "../../etc/shadow" }]),
        );
        return oci([{ tags: [], layers: [fromTar(tar, true)] }]);
      },
      "UNSAFE_PATH",
      /hard link target of "p"/,
    ],
    [
      "a docker save manifest naming a layer outside the archive",
      () => {
        const d = writeDockerSave(join(dir, `case-${n++}`), [{ tags: ["x:1"], layers: [fresh()] }]);
        const m = JSON.parse(readFileSync(join(d, "manifest.json"), "utf8"));
        m[0].Layers[0] = "../../../etc/passwd";
        writeFileSync(join(d, "manifest.json"), JSON.stringify(m));
        return tarFolder(d, `${d}.tar`);
      },
      "UNSAFE_PATH",
      /Layers\[0\] "..\/..\/..\/etc\/passwd" points outside the archive/,
    ],
    [
      "a zstd layer",
      () => {
        const l = { ...fresh(), mediaType: "application/vnd.oci.image.layer.v1.tar+zstd" };
        return oci([{ tags: [], layers: [l] }]);
      },
      "BAD_MEDIA_TYPE",
      /layer 1 of image "app:latest" is zstd-compressed/,
    ],
    [
      "a truncated image tar",
      () => {
        const tar = tarFolder(oci([{ tags: [], layers: [fresh()] }]), join(dir, `cut-${n}.tar`));
        truncateSync(tar, 3000);
        return tar;
      },
      "BAD_ARCHIVE",
      /truncated|cannot read/,
    ],
  ];
  for (const [what, make, code, message] of cases) {
    const err = await store.import(make(), "app").then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof ImageError)) {
      t.fail(`${what}: expected an ImageError, got ${String(err)}`);
      continue;
    }
    t.is(err.code, code, `${what}: ${err.message}`);
    t.regex(err.message, message, what);
    t.deepEqual(tree(join(dir, "images")), snapshot, `${what}: the store is unchanged`);
  }
  t.deepEqual(store.get("app"), before);
  t.is(execFileSync("ls", ["/etc/cron.d"]).toString().includes("evil"), false);
});
