// `docker save` archives of stored images (weft image save, Docker's GET /images/get): manifest.json,
// one OCI image config per image and each layer as LAYERHEX/layer.tar. Layers are stored unpacked, so
// each is written as a tar again (overlay whiteouts back in the OCI forms); its bytes differ from the
// tar it was imported from, so the saved config names new diff_ids and the image gets a new id where
// it is loaded (Docker keeps the original bytes with tar-split; weft does not).
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ContainerFs } from "../copy/container-fs";
import { packLayer } from "../copy/pack";
import { END_OF_ARCHIVE, entryHeader, padding } from "../copy/tar";
import { sha256File } from "./digest";
import { ociConfigJson } from "./image-config";
import type { ImageRecord } from "./record";

interface SavedFile {
  name: string;
  /** Content from a file, or in memory. */
  path?: string;
  data?: Buffer;
}

/**
 * The archive of `images` (names of one id go together, as RepoTags of one entry). Layer tars are
 * written into `scratch` first (a tar header needs the size); the caller removes it afterwards.
 */
export async function* saveArchive(images: ImageRecord[], scratch: string): AsyncGenerator<Buffer> {
  const files: SavedFile[] = [];
  const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const written = new Map<string, { hex: string }>();
  for (const group of groupById(images).values()) {
    const image = group[0] as ImageRecord;
    const layers: string[] = [];
    const diffIds: string[] = [];
    // Bottom first, as diff_ids are; a plain rootfs image is its one layer.
    for (const dir of [...image.layers].reverse()) {
      let layer = written.get(dir);
      if (!layer) {
        const path = join(scratch, `layer-${written.size}.tar`);
        const fs = new ContainerFs({ name: image.name, rootfs: dir, mounts: [], readOnlyRoot: true });
        await pipeline(Readable.from(packLayer(fs, new Set())), createWriteStream(path));
        const { hex } = await sha256File(path);
        layer = { hex };
        written.set(dir, layer);
        // Two stored layers can tar to the same bytes (trees alike, their source tars not): one entry.
        if (!files.some((f) => f.name === `${hex}/layer.tar`)) files.push({ name: `${hex}/layer.tar`, path });
      }
      layers.push(`${layer.hex}/layer.tar`);
      diffIds.push(`sha256:${layer.hex}`);
    }
    const history = diffIds.map(() => ({
      created: image.created,
      ...(image.comment ? { comment: image.comment } : {}),
    }));
    const config = Buffer.from(
      ociConfigJson(image.config, { created: image.created, author: image.author, diffIds, history }),
    );
    const configHex = createHash("sha256").update(config).digest("hex");
    files.push({ name: `${configHex}.json`, data: config });
    manifest.push({ Config: `${configHex}.json`, RepoTags: group.map((i) => i.name), Layers: layers });
  }
  files.push({ name: "manifest.json", data: Buffer.from(JSON.stringify(manifest)) });
  const mtime = Math.floor(Date.now() / 1000);
  const dirs = new Set<string>();
  for (const f of files) {
    const slash = f.name.indexOf("/");
    if (slash > 0 && !dirs.has(f.name.slice(0, slash))) {
      dirs.add(f.name.slice(0, slash));
      yield entryHeader(entry(f.name.slice(0, slash), "dir", 0o755, 0, mtime));
    }
    const size = f.data ? f.data.length : statSync(f.path as string).size;
    yield entryHeader(entry(f.name, "file", 0o644, size, mtime));
    if (f.data) yield f.data;
    else for await (const chunk of createReadStream(f.path as string)) yield chunk as Buffer;
    yield padding(size);
  }
  yield END_OF_ARCHIVE;
}

function entry(name: string, type: "file" | "dir", mode: number, size: number, mtime: number) {
  return { name, type, mode, uid: 0, gid: 0, size, mtime, linkname: "", devmajor: 0, devminor: 0 };
}

function groupById(images: ImageRecord[]): Map<string, ImageRecord[]> {
  const out = new Map<string, ImageRecord[]>();
  for (const i of images) out.set(i.id, [...(out.get(i.id) ?? []), i]);
  return out;
}
