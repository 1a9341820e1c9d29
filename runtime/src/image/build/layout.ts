// Writes an OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
// oci-layout, index.json and blobs/sha256/<digest> for the manifest, the config and gzip layers.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

export const MEDIA_TYPES = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Layer extends Descriptor {
  /** sha256 of the uncompressed tar: what the config's rootfs.diff_ids lists. */
  diffId: string;
}

function blobPath(layout: string, digest: string): string {
  return join(layout, "blobs", "sha256", digest.replace(/^sha256:/, ""));
}

/** Stores bytes as a blob and returns its descriptor. */
export async function writeBlob(layout: string, mediaType: string, bytes: Buffer): Promise<Descriptor> {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  await mkdir(join(layout, "blobs", "sha256"), { recursive: true });
  await writeFile(blobPath(layout, digest), bytes);
  return { mediaType, digest, size: bytes.length };
}

/** Gzips a tar into a layer blob, hashing the tar (diff_id) and the gzip (digest) in one pass. */
export async function writeLayer(layout: string, tarPath: string): Promise<Layer> {
  await mkdir(join(layout, "blobs", "sha256"), { recursive: true });
  const tarHash = createHash("sha256");
  const gzHash = createHash("sha256");
  const tmp = join(layout, "blobs", `.layer-${randomBytes(6).toString("hex")}`);
  try {
    await pipeline(
      createReadStream(tarPath),
      tap(tarHash),
      // zlib writes no name and a zero mtime in the gzip header, so the bytes depend on the tar only.
      createGzip({ level: 6 }),
      tap(gzHash),
      createWriteStream(tmp),
    );
    const digest = `sha256:${gzHash.digest("hex")}`;
    const { size } = await stat(tmp);
    await rename(tmp, blobPath(layout, digest));
    return { mediaType: MEDIA_TYPES.layerGzip, digest, size, diffId: `sha256:${tarHash.digest("hex")}` };
  } finally {
    await rm(tmp, { force: true });
  }
}

function tap(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

/**
 * Writes the config and manifest blobs and the index naming the image; returns the manifest's
 * descriptor. JSON is written with a fixed key order, so equal inputs give equal digests.
 */
export async function writeImage(
  layout: string,
  name: string,
  config: object,
  layers: Layer[],
): Promise<Descriptor> {
  const configDesc = await writeBlob(layout, MEDIA_TYPES.config, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: configDesc,
    layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  };
  const manifestDesc = await writeBlob(layout, MEDIA_TYPES.manifest, Buffer.from(JSON.stringify(manifest)));
  const entry = { ...manifestDesc, annotations: { [REF_NAME_ANNOTATION]: name } };
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [entry] };
  await writeFile(join(layout, "oci-layout"), `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`);
  await writeFile(join(layout, "index.json"), `${JSON.stringify(index)}\n`);
  return entry;
}
