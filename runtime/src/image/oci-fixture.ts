// Test helper (not part of the public surface): image archives made on the spot with tar and
// node:crypto, in the formats `weft image import` reads: OCI image layouts and `docker save` tars.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";

export interface FixtureLayer {
  /** The blob as the archive stores it. */
  blob: Buffer;
  /** sha256:... of the blob. */
  digest: string;
  /** sha256:... of the uncompressed tar. */
  diffId: string;
  mediaType: string;
}

export interface FixtureImage {
  tags: string[];
  /** Bottom first. */
  layers: FixtureLayer[];
  /** Docker-style config fields (Env, Cmd, ...). */
  config?: Record<string, unknown>;
  /** Replace the diff_ids the config lists (to make a bad archive). */
  diffIds?: string[];
}

const sha = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/**
 * A layer from a map of path → content ("/" at the end: a directory). Whiteouts are plain files
 * named ".wh.NAME" and ".wh..wh..opq", as in real layers.
 */
export function makeLayer(files: Record<string, string>, o: { gzip?: boolean } = {}): FixtureLayer {
  const src = mkdtempSync("/tmp/wt-layer-");
  try {
    for (const [path, content] of Object.entries(files)) {
      if (path.endsWith("/")) {
        mkdirSync(join(src, path), { recursive: true });
      } else {
        mkdirSync(dirname(join(src, path)), { recursive: true });
        writeFileSync(join(src, path), content);
      }
    }
    const tar = execFileSync("tar", [
      "-C",
      src,
      "--sort=name",
      "--mtime=@0",
      "--owner=0",
      "--group=0",
      "-cf",
      "-",
      ".",
    ]);
    return fromTar(tar, o.gzip ?? true);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}

/** A layer from tar bytes made elsewhere (e.g. a hand-made escaping tarball). */
export function fromTar(tar: Buffer, gzip: boolean): FixtureLayer {
  const blob = gzip ? gzipSync(tar) : tar;
  return {
    blob,
    digest: sha(blob),
    diffId: sha(tar),
    mediaType: gzip
      ? "application/vnd.oci.image.layer.v1.tar+gzip"
      : "application/vnd.oci.image.layer.v1.tar",
  };
}

function configOf(image: FixtureImage): Buffer {
  return Buffer.from(
    JSON.stringify({
      created: "2026-01-02T03:04:05Z",
      architecture: "amd64",
      os: "linux",
      config: image.config ?? {},
      rootfs: { type: "layers", diff_ids: image.diffIds ?? image.layers.map((l) => l.diffId) },
    }),
  );
}

/** Writes an OCI image layout folder; returns the folder. */
export function writeOciLayout(dir: string, images: FixtureImage[]): string {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer) => {
    writeFileSync(join(blobs, sha(b).slice(7)), b);
    return { digest: sha(b), size: b.length };
  };
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const manifests = [];
  for (const image of images) {
    const config = put(configOf(image));
    const layers = image.layers.map((l) => ({ mediaType: l.mediaType, ...put(l.blob) }));
    const manifest = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
          layers,
        }),
      ),
    );
    for (const tag of image.tags.length > 0 ? image.tags : [undefined]) {
      manifests.push({
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...manifest,
        annotations: tag
          ? { "io.containerd.image.name": tag, "org.opencontainers.image.ref.name": tag.split(":").at(-1) }
          : {},
      });
    }
  }
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests }));
  return dir;
}

/** Writes a classic `docker save` folder (uncompressed <id>/layer.tar, <config id>.json, manifest.json). */
export function writeDockerSave(dir: string, images: FixtureImage[]): string {
  mkdirSync(dir, { recursive: true });
  const manifest = images.map((image) => {
    const config = configOf(image);
    const configName = `${sha(config).slice(7)}.json`;
    writeFileSync(join(dir, configName), config);
    const layers = image.layers.map((l) => {
      const tar = l.blob[0] === 0x1f && l.blob[1] === 0x8b ? gunzipSync(l.blob) : l.blob;
      const name = `${sha(tar).slice(7)}/layer.tar`;
      mkdirSync(join(dir, dirname(name)), { recursive: true });
      writeFileSync(join(dir, name), tar);
      return name;
    });
    return { Config: configName, RepoTags: image.tags, Layers: layers };
  });
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  return dir;
}

/** Packs a folder into a tar (members without a "./" prefix, as docker save writes them). */
export function tarFolder(dir: string, out: string): string {
  const names = execFileSync("ls", ["-A", dir]).toString().trim().split("\n");
  execFileSync("tar", ["-C", dir, "-cf", out, ...names]);
  return out;
}

/** Copies a blob file of an OCI layout by digest (for tests that corrupt one). */
export function blobFile(dir: string, digest: string): string {
  return join(dir, "blobs", "sha256", digest.slice(7));
}
