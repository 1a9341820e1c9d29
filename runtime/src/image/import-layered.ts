// Import of a layered image archive already unpacked into a folder: pick the images asked for,
// verify each config and layer, store the layers (once each) and the image's meta. On failure the
// layers and metas this call added are removed again, so the store is as it was.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { digestHex, sha256File } from "./digest";
import { ImageError } from "./errors";
import { parseImageConfig } from "./image-config";
import { type ImageCandidate, normaliseName, readImageDir } from "./image-source";
import type { LayerStore } from "./layer-store";
import type { ImageMeta } from "./store";

export interface LayeredContext {
  dir: string;
  layers: LayerStore;
  hasMeta(id: string): boolean;
  commitMeta(tmp: string, meta: ImageMeta): void;
  /** Layer hexes that stored images refer to. */
  usedLayers(): Set<string>;
}

/** Imports from an unpacked archive; returns [name, id] pairs for the index. */
export async function importLayered(
  ctx: LayeredContext,
  dir: string,
  name: string | undefined,
): Promise<Array<[string, string]>> {
  const chosen = select(await readImageDir(dir), name);
  const layersBefore = new Set(ctx.layers.list());
  const made: string[] = [];
  const scratch = join(ctx.dir, `.layers-${randomBytes(6).toString("hex")}`);
  try {
    await mkdir(scratch);
    const out: Array<[string, string]> = [];
    for (const { candidate, names } of chosen) {
      const id = await importOne(ctx, candidate, names[0] ?? "", scratch, made);
      for (const n of names) out.push([n, id]);
    }
    return out;
  } catch (err) {
    for (const id of made) await rm(join(ctx.dir, id), { recursive: true, force: true });
    const used = ctx.usedLayers();
    for (const hex of ctx.layers.list()) {
      if (!layersBefore.has(hex) && !used.has(hex)) await ctx.layers.remove(hex);
    }
    throw err;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Which images to import and under which names. */
function select(
  candidates: ImageCandidate[],
  name: string | undefined,
): Array<{ candidate: ImageCandidate; names: string[] }> {
  const tags = candidates.flatMap((c) => c.tags);
  if (name === undefined) {
    const tagged = candidates.filter((c) => c.tags.length > 0);
    if (tagged.length === 0) {
      throw new ImageError("BAD_NAME", "the archive's images carry no tags; give a NAME to import as");
    }
    return tagged.map((candidate) => ({ candidate, names: candidate.tags }));
  }
  const want = normaliseName(name);
  const match = candidates.find((c) => c.tags.includes(want));
  if (match) return [{ candidate: match, names: [name] }];
  if (candidates.length === 1) return [{ candidate: candidates[0]!, names: [name] }];
  throw new ImageError(
    "IMAGE_NOT_FOUND",
    `the archive holds ${candidates.length} images and none is tagged "${want}"; ` +
      `name one of: ${tags.join(", ") || "(none tagged)"}`,
  );
}

async function importOne(
  ctx: LayeredContext,
  c: ImageCandidate,
  label: string,
  scratch: string,
  made: string[],
): Promise<string> {
  const what = `image "${label}"`;
  const { hex } = await sha256File(c.configPath, `the config of ${what}`);
  if (c.configDigest !== undefined && hex !== digestHex(c.configDigest, `the config of ${what}`)) {
    throw new ImageError(
      "BAD_DIGEST",
      `the config of ${what} has sha256:${hex}, not ${c.configDigest}; the archive is corrupt, export it again`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(c.configPath, "utf8"));
  } catch (err) {
    throw new ImageError("BAD_ARCHIVE", `the config of ${what} is not JSON: ${(err as Error).message}`);
  }
  const parsed = parseImageConfig(raw, `the config of ${what}`);
  if (parsed.diffIds.length !== c.layers.length) {
    throw new ImageError(
      "BAD_ARCHIVE",
      `${what}: the manifest lists ${c.layers.length} layers but the config's rootfs.diff_ids has ` +
        `${parsed.diffIds.length}; the archive is corrupt`,
    );
  }
  if (c.layers.length === 0) throw new ImageError("BAD_ARCHIVE", `${what} has no layers`);
  if (ctx.hasMeta(hex)) return hex;
  const hexes: string[] = [];
  for (const [i, layer] of c.layers.entries()) {
    const diffId = parsed.diffIds[i] ?? "";
    hexes.push(await ctx.layers.add({ ...layer, diffId, what: `layer ${i + 1} of ${what}` }, scratch));
  }
  const meta: ImageMeta = {
    id: hex,
    created: parsed.created ?? new Date().toISOString(),
    sizeBytes: hexes.reduce((sum, h) => sum + ctx.layers.sizeOf(h), 0),
    config: parsed.config,
    diffIds: parsed.diffIds,
  };
  ctx.commitMeta(join(ctx.dir, `.meta-${randomBytes(6).toString("hex")}`), meta);
  made.push(hex);
  return hex;
}
