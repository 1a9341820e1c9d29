// Content-addressed layers: STATE/images/layers/<diffid hex>/ is a layer's unpacked tree (an overlay
// lower dir, shared by every image and container using it) and <hex>.json its size. A layer is
// verified (blob digest, then diff_id of the uncompressed tar), checked for escaping paths, unpacked
// in a temp dir and renamed into place, so a stored layer is always whole and never unpacked twice.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { checkEntries, extractArchive, listArchive } from "./archive";
import { digestHex, sha256File } from "./digest";
import { ImageError } from "./errors";
import { applyWhiteouts } from "./whiteout";

/** One layer as an archive describes it. */
export interface LayerSource {
  /** The blob's file (gzip or plain tar). */
  path: string;
  /** "sha256:..." naming the blob, when the archive names it (OCI, newer docker save). */
  blobDigest?: string;
  /** The blob's size as the manifest gives it. */
  sizeBytes?: number;
  mediaType?: string;
  /** The config's rootfs.diff_ids entry: sha256 of the uncompressed tar. */
  diffId: string;
  /** For messages, e.g. `layer 2 of "shop/web:1"`. */
  what: string;
}

export class LayerStore {
  constructor(readonly dir: string) {}

  /** The layer's unpacked tree (whether or not it exists). */
  path(hex: string): string {
    return join(this.dir, hex);
  }

  has(hex: string): boolean {
    return existsSync(this.path(hex));
  }

  /** Sum of the regular files' sizes in the layer (0 if unknown). */
  sizeOf(hex: string): number {
    try {
      return (JSON.parse(readFileSync(join(this.dir, `${hex}.json`), "utf8")) as { sizeBytes: number })
        .sizeBytes;
    } catch {
      return 0;
    }
  }

  /** Hexes of every stored layer. */
  list(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((n) => /^[0-9a-f]{64}$/.test(n));
  }

  /** Checks the blob's size and digest (even when the layer is stored: the archive must be whole). */
  async verifyBlob(src: LayerSource): Promise<void> {
    if (!existsSync(src.path)) {
      throw new ImageError(
        "BAD_ARCHIVE",
        `${src.what}: blob ${src.blobDigest ?? src.path} is missing from the archive; export the image again`,
      );
    }
    const { hex, sizeBytes } = await sha256File(src.path, `${src.what} (${src.path})`);
    if (src.sizeBytes !== undefined && sizeBytes !== src.sizeBytes) {
      throw new ImageError(
        "BAD_DIGEST",
        `${src.what}: blob ${src.blobDigest ?? src.path} has ${sizeBytes} bytes but the manifest says ` +
          `${src.sizeBytes}: it is truncated or corrupt; export the image again`,
      );
    }
    if (src.blobDigest !== undefined && hex !== digestHex(src.blobDigest, src.what)) {
      throw new ImageError(
        "BAD_DIGEST",
        `${src.what}: blob content has sha256:${hex} but the manifest names it ${src.blobDigest}; ` +
          "the archive is corrupt, export the image again",
      );
    }
  }

  /**
   * Verifies and unpacks a layer unless it is stored already; returns its hex. `scratch` is a
   * temp dir of the caller on the same filesystem, removed by the caller.
   */
  async add(src: LayerSource, scratch: string): Promise<string> {
    const hex = digestHex(src.diffId, `${src.what} (its diff_id)`);
    await this.verifyBlob(src);
    if (this.has(hex)) return hex;
    if (src.mediaType?.includes("zstd")) throw zstd(src);
    const tar = await this.uncompressed(src, scratch);
    const entries = await listArchive(tar, { allowEmpty: true });
    checkEntries(entries);
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.tmp-${randomBytes(6).toString("hex")}`);
    try {
      await mkdir(tmp);
      await extractArchive(tar, tmp);
      await applyWhiteouts(tmp, entries);
      const sizeBytes = entries.reduce((sum, e) => sum + (e.type === "-" ? e.sizeBytes : 0), 0);
      await writeFile(
        join(this.dir, `${hex}.json`),
        JSON.stringify({ diffId: src.diffId, sizeBytes }) + "\n",
      );
      try {
        await rename(tmp, this.path(hex));
      } catch (err) {
        // Another process unpacked the same layer first: identical content, keep theirs.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return hex;
  }

  /** Deletes a layer (tree first, so a half-deleted layer never looks whole). */
  async remove(hex: string): Promise<void> {
    const trash = join(this.dir, `.rm-${hex}-${randomBytes(4).toString("hex")}`);
    if (this.has(hex)) await rename(this.path(hex), trash);
    await rm(trash, { recursive: true, force: true });
    await rm(join(this.dir, `${hex}.json`), { force: true });
  }

  /** The layer as a plain tar, its sha256 checked against the diff_id. */
  private async uncompressed(src: LayerSource, scratch: string): Promise<string> {
    const magic = await readMagic(src.path);
    const want = digestHex(src.diffId, src.what);
    if (magic.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) throw zstd(src);
    if (magic[0] !== 0x1f || magic[1] !== 0x8b) {
      const { hex } = await sha256File(src.path, src.what);
      if (hex !== want) throw diffIdMismatch(src, hex);
      return src.path;
    }
    const out = join(scratch, `layer-${randomBytes(6).toString("hex")}.tar`);
    const hash = createHash("sha256");
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(createReadStream(src.path), createGunzip(), tap, createWriteStream(out));
    } catch (err) {
      throw new ImageError(
        "BAD_ARCHIVE",
        `${src.what}: the gzip blob is truncated or corrupt (${(err as Error).message}); export the image again`,
      );
    }
    const hex = hash.digest("hex");
    if (hex !== want) throw diffIdMismatch(src, hex);
    return out;
  }
}

async function readMagic(path: string): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function zstd(src: LayerSource): ImageError {
  return new ImageError(
    "BAD_MEDIA_TYPE",
    `${src.what} is zstd-compressed, which Weft cannot unpack yet; export the image with gzip or uncompressed layers`,
  );
}

function diffIdMismatch(src: LayerSource, hex: string): ImageError {
  return new ImageError(
    "BAD_DIGEST",
    `${src.what}: the uncompressed layer has sha256:${hex} but the image config's diff_id is ${src.diffId}; ` +
      "the archive is corrupt, export the image again",
  );
}
