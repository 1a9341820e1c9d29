import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkEntries, extractArchive, listArchive } from "./archive";
import { ImageError } from "./errors";
import { overlayLowerDirs } from "./mountinfo";

export interface ImageConfig {
  env: string[];
  cmd: string[];
  entrypoint: string[];
  workdir: string;
  user: string;
}

export interface ImageRecord {
  name: string;
  /** sha256 (hex) of the imported tarball's bytes. */
  id: string;
  /** The extracted root filesystem: the overlay's lower layer, never written by containers. */
  rootfs: string;
  /** ISO time the content was first imported. */
  created: string;
  /** Sum of the regular files' sizes. */
  sizeBytes: number;
  config: ImageConfig;
}

/** What a plain rootfs tarball gets, as `docker import` would give it. */
export const DEFAULT_IMAGE_CONFIG: ImageConfig = {
  env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  cmd: ["/bin/sh"],
  entrypoint: [],
  workdir: "/",
  user: "0",
};

/** Stored once per id, next to the rootfs. */
interface ImageMeta {
  id: string;
  created: string;
  sizeBytes: number;
  config: ImageConfig;
}

interface IndexFile {
  images: Record<string, string>;
}

const NAME_RE = /^[a-z0-9][a-z0-9._/:-]*$/;

/** Throws BAD_NAME unless the name is lower-case letters, digits and . _ / : - (at most 255). */
export function checkImageName(name: string): void {
  if (name.length > 255 || !NAME_RE.test(name)) {
    throw new ImageError(
      "BAD_NAME",
      `invalid image name "${name}": use lower-case letters, digits and . _ / : - (starting with a letter or digit)`,
    );
  }
}

/**
 * Images in a folder: DIR/<id>/rootfs and DIR/<id>/image.json per content, DIR/index.json mapping
 * names to ids. Content is addressed by the tarball's sha256, so re-importing the same tarball
 * reuses it. Index updates are serialised within this process; two processes importing into the
 * same folder at once could lose a name (the daemon is the only writer).
 */
export class ImageStore {
  private indexQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dir: string) {}

  /**
   * Imports a rootfs tarball (plain or gzip) under a name. Validates every member first; extraction
   * happens in a temporary folder renamed into place, so a bad or truncated archive leaves nothing
   * behind and never replaces an existing image. An existing name is re-pointed; its old content
   * stays on disk, as running containers may use it as their lower layer (no GC yet).
   */
  async import(tarPath: string, name: string): Promise<ImageRecord> {
    checkImageName(name);
    const id = await sha256File(tarPath);
    await mkdir(this.dir, { recursive: true });
    if (!existsSync(join(this.dir, id, "image.json"))) await this.unpack(tarPath, id);
    await this.updateIndex((images) => {
      images[name] = id;
    });
    return this.get(name);
  }

  /** The image of that name; throws IMAGE_NOT_FOUND (with the import command to run) otherwise. */
  get(name: string): ImageRecord {
    checkImageName(name);
    const id = this.readIndex().images[name];
    const meta = id === undefined ? undefined : this.readMeta(id);
    if (!meta) {
      throw new ImageError(
        "IMAGE_NOT_FOUND",
        `image "${name}" not found; import it with 'weft image import FILE.tar ${name}'`,
      );
    }
    return this.record(name, meta);
  }

  /** Every named image, sorted by name; names whose content went missing are skipped. */
  list(): ImageRecord[] {
    const out: ImageRecord[] = [];
    const images = this.readIndex().images;
    for (const name of Object.keys(images).sort()) {
      const meta = this.readMeta(images[name] ?? "");
      if (meta) out.push(this.record(name, meta));
    }
    return out;
  }

  /**
   * Forgets the name (IMAGE_NOT_FOUND if unknown). The content is deleted only when no other name
   * points to it and no overlay on this host uses it as a lower layer; otherwise it stays for a
   * later GC. The engine should refuse to remove an image that stopped containers still need.
   */
  async remove(name: string): Promise<void> {
    const { id } = this.get(name);
    let unreferenced = false;
    await this.updateIndex((images) => {
      delete images[name];
      unreferenced = !Object.values(images).includes(id);
    });
    const rootfs = join(this.dir, id, "rootfs");
    if (unreferenced && !overlayLowerDirs().some((lower) => lower.includes(rootfs))) {
      await rm(join(this.dir, id), { recursive: true, force: true });
    }
  }

  private async unpack(tarPath: string, id: string): Promise<void> {
    const entries = await listArchive(tarPath);
    checkEntries(entries);
    const tmp = join(this.dir, `.import-${randomBytes(6).toString("hex")}`);
    try {
      await mkdir(join(tmp, "rootfs"), { recursive: true });
      await extractArchive(tarPath, join(tmp, "rootfs"));
      const meta: ImageMeta = {
        id,
        created: new Date().toISOString(),
        sizeBytes: entries.reduce((sum, e) => sum + (e.type === "-" ? e.sizeBytes : 0), 0),
        config: DEFAULT_IMAGE_CONFIG,
      };
      await writeFile(join(tmp, "image.json"), JSON.stringify(meta, null, 2) + "\n");
      try {
        await rename(tmp, join(this.dir, id));
      } catch (err) {
        // Another import of the same tarball won the race: identical content, keep theirs.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  private record(name: string, meta: ImageMeta): ImageRecord {
    return {
      name,
      id: meta.id,
      rootfs: join(this.dir, meta.id, "rootfs"),
      created: meta.created,
      sizeBytes: meta.sizeBytes,
      config: meta.config,
    };
  }

  private readMeta(id: string): ImageMeta | undefined {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    try {
      return JSON.parse(readFileSync(join(this.dir, id, "image.json"), "utf8")) as ImageMeta;
    } catch {
      return undefined;
    }
  }

  private readIndex(): IndexFile {
    const file = join(this.dir, "index.json");
    if (!existsSync(file)) return { images: {} };
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<IndexFile>;
    return { images: parsed.images ?? {} };
  }

  /** Read-modify-write of the index, one at a time, written to a temp file and renamed into place. */
  private updateIndex(change: (images: Record<string, string>) => void): Promise<void> {
    const next = this.indexQueue.then(() => {
      const index = this.readIndex();
      change(index.images);
      mkdirSync(this.dir, { recursive: true });
      const tmp = join(this.dir, `.index-${process.pid}-${randomBytes(4).toString("hex")}.json`);
      writeFileSync(tmp, JSON.stringify(index, null, 2) + "\n");
      renameSync(tmp, join(this.dir, "index.json"));
    });
    this.indexQueue = next.catch(() => undefined);
    return next;
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (err) {
    throw new ImageError("BAD_ARCHIVE", `cannot read ${path}: ${(err as Error).message}`);
  }
  return hash.digest("hex");
}
