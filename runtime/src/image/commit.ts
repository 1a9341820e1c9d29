// A new image from a container (weft commit, Docker's POST /commit): the base image's layers and one
// more, the container's changes as an OCI layer tar, stored as any imported layer is (verified,
// unpacked once, whiteouts turned back into overlay's), with an OCI image config whose sha256 is the
// image's id. A base that is a plain rootfs (no layers) is stored as a layer first.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { sha256File } from "./digest";
import { ociConfigJson } from "./image-config";
import type { LayeredContext } from "./import-layered";
import type { ImageConfig, ImageRecord } from "./record";
import type { ImageMeta } from "./store";

export interface CommitInput {
  base: ImageRecord;
  config: ImageConfig;
  comment?: string;
  author?: string;
  /**
   * Writes the layer tars into `dir` (on the store's file system) and returns them, bottom first:
   * the base's rootfs first when it has no layers, then the container's changes.
   */
  writeLayers(dir: string): Promise<Array<{ path: string; what: string }>>;
}

/** Stores the layers and the image's meta; returns the image id (the config's sha256 hex). */
export async function commitImage(ctx: LayeredContext, o: CommitInput): Promise<string> {
  const scratch = join(ctx.dir, `.commit-${randomBytes(6).toString("hex")}`);
  const layersBefore = new Set(ctx.layers.list());
  try {
    await mkdir(scratch, { recursive: true });
    const tars = await o.writeLayers(scratch);
    const diffIds = [...o.base.diffIds];
    for (const tar of tars) {
      const { hex } = await sha256File(tar.path, tar.what);
      diffIds.push(
        `sha256:${await ctx.layers.add({ path: tar.path, diffId: `sha256:${hex}`, what: tar.what }, scratch)}`,
      );
    }
    const created = new Date().toISOString();
    const config = ociConfig(o, diffIds, created);
    const id = createHash("sha256").update(config).digest("hex");
    if (!ctx.hasMeta(id)) {
      const meta: ImageMeta = {
        id,
        created,
        sizeBytes: diffIds.reduce((sum, d) => sum + ctx.layers.sizeOf(d.slice("sha256:".length)), 0),
        config: o.config,
        diffIds,
        ...(o.comment ? { comment: o.comment } : {}),
        ...(o.author ? { author: o.author } : {}),
      };
      ctx.commitMeta(join(ctx.dir, `.meta-${randomBytes(6).toString("hex")}`), meta);
    }
    return id;
  } catch (err) {
    const used = ctx.usedLayers();
    for (const hex of ctx.layers.list())
      if (!layersBefore.has(hex) && !used.has(hex)) await ctx.layers.remove(hex);
    throw err;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The OCI image config, whose bytes name the image. */
function ociConfig(o: CommitInput, diffIds: string[], created: string): string {
  return ociConfigJson(o.config, {
    created,
    author: o.author,
    diffIds,
    history: [
      ...o.base.diffIds.map(() => ({ created: o.base.created })),
      { created, created_by: "weft commit", ...(o.comment ? { comment: o.comment } : {}) },
    ],
  });
}
