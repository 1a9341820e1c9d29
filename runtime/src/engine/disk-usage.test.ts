// Disk usage as docker system df counts it: a tree's files (hard links once), images' shared layers
// told apart from their own, containers' writable layers and volumes.
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { DEFAULT_IMAGE_CONFIG } from "../image/record";
import { diskUsage, treeBytes } from "./disk-usage";
import type { ImageInfo } from "./parts";
import type { ContainerState } from "./types";

function temp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "weft-du-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("a tree's size is its regular files, a hard-linked file once; a missing tree is 0", async (t) => {
  const dir = temp(t);
  mkdirSync(join(dir, "a", "b"), { recursive: true });
  writeFileSync(join(dir, "a", "one"), Buffer.alloc(1000));
  writeFileSync(join(dir, "a", "b", "two"), Buffer.alloc(2000));
  linkSync(join(dir, "a", "b", "two"), join(dir, "a", "same-two"));
  symlinkSync("/etc/passwd", join(dir, "a", "link"));
  t.is(await treeBytes(dir), 3000);
  t.is(await treeBytes(join(dir, "nope")), 0);
});

test("images count their shared layers apart; containers their writable layer; volumes their data", async (t) => {
  const dir = temp(t);
  const image = (id: string, name: string, diffIds: string[], sizeBytes: number): ImageInfo => ({
    name,
    id,
    rootfs: "",
    layers: [],
    diffIds,
    created: "2026-01-01T00:00:00Z",
    sizeBytes,
    config: DEFAULT_IMAGE_CONFIG,
  });
  const sizes: Record<string, number> = { "sha256:base": 100, "sha256:app": 30, "sha256:tool": 5 };
  mkdirSync(join(dir, "c1"));
  writeFileSync(join(dir, "c1", "state"), Buffer.alloc(700));
  mkdirSync(join(dir, "vol"));
  writeFileSync(join(dir, "vol", "db"), Buffer.alloc(4096));
  const du = await diskUsage({
    images: [
      image("i1", "app:1", ["sha256:base", "sha256:app"], 130),
      image("i1", "app:latest", ["sha256:base", "sha256:app"], 130),
      image("i2", "tool:1", ["sha256:base", "sha256:tool"], 105),
      image("i3", "plain:1", [], 50),
    ],
    layerBytes: (d) => sizes[d] ?? 0,
    containers: [{ id: "c1", name: "web", imageId: "i1", status: "running" } as ContainerState],
    upperOf: (s) => join(dir, s.id),
    volumes: [{ name: "data", mountpoint: join(dir, "vol"), created: "", labels: {}, usedBy: [] }],
  });
  t.is(du.layersBytes, 100 + 30 + 5 + 50, "each layer once, and the plain rootfs");
  t.deepEqual(
    du.images.map((i) => [i.names.join(","), i.sharedBytes, i.containers]),
    [
      ["app:1,app:latest", 100, 1],
      ["tool:1", 100, 0],
      ["plain:1", 0, 0],
    ],
  );
  t.deepEqual(
    du.containers.map((c) => [c.state.name, c.rwBytes, c.rootBytes]),
    [["web", 700, 830]],
  );
  t.deepEqual(
    du.volumes.map((v) => [v.volume.name, v.bytes, v.refs]),
    [["data", 4096, 0]],
  );
});
