import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { ImageError, mountOverlay, unmount } from "./index";
import { mountsAt } from "./mountinfo";

function layers(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = mkdtempSync(join(tmpdir(), "wt-overlay-"));
  const o = {
    lower: join(dir, "lower"),
    upper: join(dir, "upper"),
    work: join(dir, "work"),
    target: join(dir, "merged"),
  };
  mkdirSync(o.lower);
  writeFileSync(join(o.lower, "from-image"), "image\n");
  t.teardown(async () => {
    await unmount(o.target);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, ...o };
}

test("writes go to the upper layer; the lower layer stays as it was", async (t) => {
  const o = layers(t);
  await mountOverlay(o);
  t.is(readFileSync(join(o.target, "from-image"), "utf8"), "image\n");
  writeFileSync(join(o.target, "from-image"), "changed\n");
  writeFileSync(join(o.target, "new"), "new\n");
  t.is(readFileSync(join(o.lower, "from-image"), "utf8"), "image\n");
  t.false(existsSync(join(o.lower, "new")));
  t.is(readFileSync(join(o.upper, "new"), "utf8"), "new\n");
});

test("mounting the same overlay again is a no-op; another mount on the target is refused", async (t) => {
  const o = layers(t);
  await mountOverlay(o);
  await mountOverlay(o);
  t.is(mountsAt(o.target).length, 1);
  const other = { ...o, upper: join(o.dir, "upper2"), work: join(o.dir, "work2") };
  const err = await t.throwsAsync(mountOverlay(other), { instanceOf: ImageError });
  t.is(err?.code, "MOUNT_FAILED");
  t.regex(err?.message ?? "", /already has a overlay mount/);
});

test("unmount is idempotent and detaches a busy mount lazily", async (t) => {
  const o = layers(t);
  await unmount(join(o.dir, "never-mounted"));
  await unmount(join(o.dir, "does-not-exist"));
  await mountOverlay(o);
  const busy = openSync(join(o.target, "from-image"), "r");
  try {
    await unmount(o.target);
    t.is(mountsAt(o.target).length, 0);
  } finally {
    closeSync(busy);
  }
  await unmount(o.target);
});

test("60 store-sized layers stack (relative lowerdirs); too many for one mount is a clear error", async (t) => {
  const o = layers(t);
  // Store-shaped names: 64 hex characters each under one layers directory, top layer first.
  const store = join(o.dir, "layers");
  const lowers = Array.from({ length: 60 }, (_, i) => join(store, i.toString(16).padStart(64, "0")));
  lowers.forEach((l, i) => {
    mkdirSync(l, { recursive: true });
    writeFileSync(join(l, `f${i}`), `${i}\n`);
    writeFileSync(join(l, "top"), `${i}\n`);
  });
  await mountOverlay({ ...o, lower: lowers });
  t.is(readFileSync(join(o.target, "top"), "utf8"), "0\n", "the first layer is the top one");
  t.is(readFileSync(join(o.target, "f59"), "utf8"), "59\n");
  await unmount(o.target);

  const many = Array.from({ length: 70 }, (_, i) => join(store, i.toString(16).padStart(64, "0")));
  const err = await t.throwsAsync(mountOverlay({ ...o, lower: many }), { instanceOf: ImageError });
  t.regex(err?.message ?? "", /the image has 70 layers, more than one overlay mount can stack here/);
  t.deepEqual(mountsAt(o.target), [], "nothing is mounted");
});

test("a layer listed twice (two commits that changed nothing) mounts as one, with the same view", async (t) => {
  const o = layers(t);
  const between = join(o.dir, "between");
  mkdirSync(between);
  writeFileSync(join(between, "from-between"), "between\n");
  writeFileSync(join(between, "from-image"), "hidden by the layer on top\n");
  // Top first: the empty-change layer on top, a layer, then the same directory again at the bottom.
  await mountOverlay({ ...o, lower: [o.lower, between, o.lower] });
  t.is(readFileSync(join(o.target, "from-image"), "utf8"), "image\n");
  t.is(readFileSync(join(o.target, "from-between"), "utf8"), "between\n");
});
