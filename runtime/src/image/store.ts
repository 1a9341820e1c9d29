// Images in a folder: DIR/index.json maps names to ids; DIR/<id>/image.json describes each content;
// a plain rootfs tarball's tree is DIR/<id>/rootfs, a layered image's layers live once each in
// DIR/layers/<diffid hex>/ (layer-store.ts). DIR/build-cache.json maps a build step's key to the
// image it made (the builder's cache): that content is kept, unnamed, until the cache is pruned or the
// entry is among the least recently used past BUILD_CACHE_ENTRIES. Every mutation runs under one lock,
// in this process (the daemon is the only writer), so a removal's GC never races an import.
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { checkEntries, extractArchive, listArchive } from "./archive";
import { type CommitInput, commitImage } from "./commit";
import { sha256File } from "./digest";
import { ImageError } from "./errors";
import { isImageDir, normaliseName, normaliseRef } from "./image-source";
import { importLayered } from "./import-layered";
import { LayerStore } from "./layer-store";
import { overlayLowerDirs } from "./mountinfo";
import { DEFAULT_IMAGE_CONFIG, type ImageConfig, type ImageRecord } from "./record";

export type { ImageConfig, ImageRecord } from "./record";
export { DEFAULT_IMAGE_CONFIG } from "./record";

/** Stored once per id, in DIR/<id>/image.json. */
export interface ImageMeta {
  id: string;
  created: string;
  sizeBytes: number;
  config: ImageConfig;
  /** Layered images: rootfs.diff_ids, bottom first. Absent for a plain rootfs. */
  diffIds?: string[];
  /** A committed image's message and author (docker commit -m, -a). */
  comment?: string;
  author?: string;
}

const NAME_RE = /^[a-z0-9][a-z0-9._/:@-]*$/;

/** The build cache keeps at most this many steps; past it, the least recently used go. */
export const BUILD_CACHE_ENTRIES = 1000;

/** One build step's result in the cache: the image it made, and when a build last used it. */
interface CacheEntry {
  id: string;
  used: string;
}

/** What the build cache holds: each step's image, when last used, and the bytes of the layer it
 * added when only the cache keeps that layer (counted once); and those bytes in all. */
export interface BuildCacheUsage {
  entries: Array<{ id: string; used: string; bytes: number }>;
  bytes: number;
}

/** Throws BAD_NAME unless the name is lower-case letters, digits and . _ / : @ - (at most 255). */
/**
 * Which image `ref` names among `images` (name -> id), as Docker looks one up: a name ("shop" is
 * "shop:latest") first, else an id prefix of 4 or more hex digits ("sha256:" optional) that only
 * one id starts with, then the first of the names that id has (byName false). Undefined when
 * nothing matches; BAD_NAME for a malformed name or a prefix several ids start with.
 */
export function lookupImageRef(
  ref: string,
  images: Record<string, string>,
): { name: string; id: string; byName: boolean } | undefined {
  if (!ref.startsWith("sha256:")) {
    checkImageName(ref);
    const name = normaliseName(ref);
    const id = images[name];
    if (id !== undefined) return { name, id, byName: true };
  }
  const hex = /^(?:sha256:)?([0-9a-f]{4,64})$/.exec(ref)?.[1];
  if (hex === undefined) return undefined;
  const names = Object.keys(images)
    .filter((n) => images[n]?.startsWith(hex))
    .sort();
  if (new Set(names.map((n) => images[n])).size > 1) {
    throw new ImageError(
      "BAD_NAME",
      `image id prefix "${ref}" is ambiguous: it starts the ids of ${names.join(", ")}; give more digits or a name`,
    );
  }
  const name = names[0];
  return name === undefined ? undefined : { name, id: images[name]!, byName: false };
}

export function checkImageName(name: string): void {
  if (name.length > 255 || !NAME_RE.test(name)) {
    throw new ImageError(
      "BAD_NAME",
      `invalid image name "${name}": use lower-case letters, digits and . _ / : - (starting with a letter or digit)`,
    );
  }
}

export class ImageStore {
  private lock: Promise<unknown> = Promise.resolve();
  readonly layers: LayerStore;

  constructor(private readonly dir: string) {
    this.layers = new LayerStore(join(dir, "layers"));
  }

  /**
   * Imports under `name` a plain rootfs tarball, an OCI layout (folder or tar) or a `docker save`
   * tar. From an archive of several images, `name` picks the one tagged so (or the only one,
   * renamed). Validates everything before anything is stored; a failure leaves the store as it was.
   * An existing name is re-pointed; the old content stays until GC finds it unused. A name of ""
   * imports every tag of the archive and resolves to the first.
   */
  async import(path: string, name: string): Promise<ImageRecord> {
    // "" is "every tag of the archive" for the API, whose import has one name parameter.
    const [record] = await this.importImages(path, name === "" ? undefined : name);
    return record!;
  }

  /**
   * Like import; without a name, imports every tagged image of an archive under its own tags. Names
   * are stored as Docker means them: "shop" is "shop:latest", "docker.io/library/busybox" is
   * "busybox:latest".
   */
  importImages(path: string, given?: string): Promise<ImageRecord[]> {
    if (given !== undefined) checkImageName(given);
    const name = given === undefined ? undefined : normaliseName(given);
    return this.locked(async () => {
      await mkdir(this.dir, { recursive: true });
      const isDir = existsSync(path) && statSync(path).isDirectory();
      const named = isDir ? await importLayered(this.ctx(), path, name) : await this.importFile(path, name);
      await this.writeIndex((images) => {
        for (const [n, id] of named) images[n] = id;
      });
      return named.map(([n]) => this.get(n));
    });
  }

  /**
   * The image a reference names, as Docker looks one up: a name ("shop" is "shop:latest"), else an
   * image id as `weft image ls` prints it (a prefix of 4 or more hex digits, "sha256:" optional) that
   * only one image's id starts with; an id several names share gives the first name. Throws
   * IMAGE_NOT_FOUND (with the import command to run) otherwise.
   */
  get(ref: string): ImageRecord {
    const images = this.readIndex().images;
    const key = lookupImageRef(ref, images)?.name;
    const meta = key === undefined ? undefined : this.readMeta(images[key] ?? "");
    if (key === undefined || !meta) {
      const hint = /^(sha256:)?[0-9a-f]{4,64}$/.test(ref)
        ? "list images and their ids with 'weft image ls'"
        : `import it with 'weft image import FILE.tar ${ref}'`;
      throw new ImageError("IMAGE_NOT_FOUND", `image "${ref}" not found; ${hint}`);
    }
    return this.record(key, meta);
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
   * Gives the image named `source` the name `target` too, as `docker tag` does (IMAGE_NOT_FOUND if
   * `source` is unknown). A `target` that named another image is re-pointed, and that image's
   * content stays (a container may use it), as with a re-import.
   */
  async tag(source: string, target: string): Promise<ImageRecord> {
    checkImageName(target);
    const key = normaliseName(target);
    return this.locked(async () => {
      const { id } = this.get(source);
      await this.writeIndex((images) => {
        images[key] = id;
      });
      return this.get(key);
    });
  }

  /**
   * Removes what a daemon killed in the middle of an import, commit or save left behind (temp dirs
   * and files named .archive-, .layers-, .meta-, .import-, .commit-, .scratch-, .index-; a layer
   * half unpacked or half removed). Call it at start, before any operation; returns what it removed.
   */
  sweepLeftovers(): string[] {
    const removed: string[] = [];
    const sweep = (dir: string, re: RegExp) => {
      if (!existsSync(dir)) return;
      for (const name of readdirSync(dir)) {
        if (!re.test(name)) continue;
        rmSync(join(dir, name), { recursive: true, force: true });
        removed.push(join(dir, name));
      }
    };
    sweep(this.dir, /^\.(archive|layers|meta|import|commit|scratch|index)-/);
    sweep(this.layers.dir, /^\.(tmp|rm)-/);
    return removed;
  }

  /** A stored layer's size by diff id, the sum of its regular files; 0 when unknown. */
  layerBytes(diffId: string): number {
    return this.layers.sizeOf(diffId.replace(/^sha256:/, ""));
  }

  /** A new empty directory on the store's file system for the caller's temp files; the caller removes it. */
  scratchDir(): string {
    mkdirSync(this.dir, { recursive: true });
    const dir = join(this.dir, `.scratch-${randomBytes(6).toString("hex")}`);
    mkdirSync(dir);
    return dir;
  }

  /**
   * A new image named `name` (re-pointed if it named another): the base's layers and the ones
   * `o.writeLayers` writes (commit.ts). Nothing is stored when a layer fails.
   */
  async commit(name: string, o: CommitInput): Promise<ImageRecord> {
    checkImageName(name);
    const key = normaliseName(name);
    return this.locked(async () => {
      const id = await commitImage(this.ctx(), o);
      await this.writeIndex((images) => {
        images[key] = id;
      });
      return this.get(key);
    });
  }

  /**
   * Forgets the name (IMAGE_NOT_FOUND if unknown), then deletes content and layers no name uses
   * and no overlay on this host mounts. The engine refuses to remove an image containers use.
   */
  async remove(name: string): Promise<void> {
    const key = this.get(name).name;
    if (key !== normaliseRef(name)) {
      // Named by id: Docker refuses (without -f) to untag every name an id has; weft takes names.
      const images = this.readIndex().images;
      const names = Object.keys(images)
        .filter((n) => images[n] === images[key])
        .sort();
      if (names.length > 1) {
        throw new ImageError(
          "IMAGE_IN_USE",
          `image ${name} has several names (${names.join(", ")}); remove each by name ('weft image rm ${names.join(" ")}')`,
        );
      }
    }
    await this.locked(async () => {
      await this.writeIndex((images) => {
        delete images[key];
      });
      await this.collect();
    });
  }

  /**
   * The image a build step with this key made before, named `name` (a build's temporary name), and
   * marked as used now; undefined when the cache has no such step (or its content is gone).
   */
  async cachedStep(key: string, name: string): Promise<ImageRecord | undefined> {
    checkImageName(name);
    return this.locked(async () => {
      const cache = this.readCache();
      const entry = cache[key];
      if (!entry || !this.readMeta(entry.id)) return undefined;
      cache[key] = { id: entry.id, used: new Date().toISOString() };
      this.writeCache(cache);
      await this.writeIndex((images) => {
        images[normaliseName(name)] = entry.id;
      });
      return this.get(name);
    });
  }

  /** Remembers that a build step with this key made image `id` (stored already, under some name). */
  async rememberStep(key: string, id: string): Promise<void> {
    await this.locked(async () => {
      if (!this.readMeta(id)) return;
      const cache = this.readCache();
      cache[key] = { id, used: new Date().toISOString() };
      const keys = Object.keys(cache);
      if (keys.length <= BUILD_CACHE_ENTRIES) return this.writeCache(cache);
      keys.sort((a, b) => (cache[a]!.used < cache[b]!.used ? -1 : 1));
      for (const k of keys.slice(0, keys.length - BUILD_CACHE_ENTRIES)) delete cache[k];
      this.writeCache(cache);
      await this.collect();
    });
  }

  /** The cache's steps, and the bytes of the layers that nothing but the cache keeps. */
  buildCacheUsage(): BuildCacheUsage {
    const keep = this.layersOf(new Set(Object.values(this.readIndex().images)));
    const entries: BuildCacheUsage["entries"] = [];
    let bytes = 0;
    for (const { id, used } of Object.values(this.readCache())) {
      const top = this.readMeta(id)
        ?.diffIds?.at(-1)
        ?.replace(/^sha256:/, "");
      const own = top !== undefined && !keep.has(top) ? this.layers.sizeOf(top) : 0;
      if (top !== undefined) keep.add(top);
      entries.push({ id, used, bytes: own });
      bytes += own;
    }
    return { entries, bytes };
  }

  /** Forgets every cached step (docker builder prune) and deletes what only the cache kept. */
  async pruneBuildCache(): Promise<BuildCacheUsage> {
    return this.locked(async () => {
      const before = this.buildCacheUsage();
      this.writeCache({});
      await this.collect();
      return before;
    });
  }

  /** Deletes unnamed content and unused layers (those mounted by an overlay, or cached, are kept). */
  private async collect(): Promise<void> {
    const named = new Set(Object.values(this.readIndex().images));
    for (const { id } of Object.values(this.readCache())) named.add(id);
    const mounted = overlayLowerDirs().flatMap((l) => l.split(":"));
    const keepLayers = new Set<string>();
    for (const id of this.contentIds()) {
      const meta = this.readMeta(id);
      const rootfs = join(this.dir, id, "rootfs");
      if (named.has(id) || mounted.includes(rootfs)) {
        for (const d of meta?.diffIds ?? []) keepLayers.add(d.replace(/^sha256:/, ""));
      } else {
        await rm(join(this.dir, id), { recursive: true, force: true });
      }
    }
    for (const hex of this.layers.list()) {
      if (!keepLayers.has(hex) && !mounted.includes(this.layers.path(hex))) await this.layers.remove(hex);
    }
  }

  private async importFile(path: string, name: string | undefined): Promise<Array<[string, string]>> {
    const entries = await listArchive(path);
    const top = new Set(entries.map((e) => e.name.replace(/^\.\//, "")));
    if (!top.has("manifest.json") && !top.has("oci-layout")) {
      if (name === undefined)
        throw new ImageError("BAD_NAME", "a plain rootfs tarball needs a NAME to import as");
      return [[name, await this.importRootfs(path, entries)]];
    }
    checkEntries(entries);
    const scratch = join(this.dir, `.archive-${randomBytes(6).toString("hex")}`);
    try {
      await mkdir(scratch);
      await extractArchive(path, scratch);
      if (!isImageDir(scratch)) throw new ImageError("BAD_ARCHIVE", `${path} is not an image archive`);
      return await importLayered(this.ctx(), scratch, name);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** A plain rootfs tarball, content-addressed by the tarball's sha256. */
  private async importRootfs(tarPath: string, entries: Awaited<ReturnType<typeof listArchive>>) {
    const { hex: id } = await sha256File(tarPath);
    if (existsSync(join(this.dir, id, "image.json"))) return id;
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
      this.commitMeta(tmp, meta);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return id;
  }

  /** Writes image.json into a temp content dir and renames it to DIR/<id> (keeps an existing one). */
  private commitMeta(tmp: string, meta: ImageMeta): void {
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, "image.json"), JSON.stringify(meta, null, 2) + "\n");
    try {
      renameSync(tmp, join(this.dir, meta.id));
    } catch (err) {
      // The same content is stored already (another import won a race): identical, keep it.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
    }
  }

  private ctx() {
    return {
      dir: this.dir,
      layers: this.layers,
      hasMeta: (id: string) => this.readMeta(id) !== undefined,
      commitMeta: (tmp: string, meta: ImageMeta) => this.commitMeta(tmp, meta),
      usedLayers: () => this.usedLayers(),
    };
  }

  /** The layer hexes of these images' content. */
  private layersOf(ids: Set<string>): Set<string> {
    const out = new Set<string>();
    for (const id of ids)
      for (const d of this.readMeta(id)?.diffIds ?? []) out.add(d.replace(/^sha256:/, ""));
    return out;
  }

  /** The build cache, with entries whose form is wrong dropped (a hand-edited or older file). */
  private readCache(): Record<string, CacheEntry> {
    const file = join(this.dir, "build-cache.json");
    if (!existsSync(file)) return {};
    let parsed: { entries?: Record<string, CacheEntry> };
    try {
      parsed = JSON.parse(readFileSync(file, "utf8")) as typeof parsed;
    } catch {
      return {}; // a cache that cannot be read is a cache that misses: builds still work
    }
    const out: Record<string, CacheEntry> = {};
    for (const [k, e] of Object.entries(parsed.entries ?? {}))
      if (/^[0-9a-f]{64}$/.test(e?.id ?? "") && typeof e.used === "string") out[k] = e;
    return out;
  }

  private writeCache(entries: Record<string, CacheEntry>): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `.index-cache-${process.pid}-${randomBytes(4).toString("hex")}.json`);
    writeFileSync(tmp, JSON.stringify({ entries }, null, 2) + "\n");
    renameSync(tmp, join(this.dir, "build-cache.json"));
  }

  /** Layer hexes any stored content refers to. */
  private usedLayers(): Set<string> {
    return this.layersOf(new Set(this.contentIds()));
  }

  private contentIds(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((n) => /^[0-9a-f]{64}$/.test(n));
  }

  private record(name: string, meta: ImageMeta): ImageRecord {
    const config = { ...DEFAULT_IMAGE_CONFIG, ...meta.config };
    if (!meta.diffIds) {
      const rootfs = join(this.dir, meta.id, "rootfs");
      return { name, id: meta.id, rootfs, layers: [rootfs], diffIds: [], ...rest(meta), config };
    }
    const layers = meta.diffIds.map((d) => this.layers.path(d.replace(/^sha256:/, ""))).reverse();
    const rootfs = layers.find((l) => existsSync(join(l, "etc", "passwd"))) ?? layers[0] ?? "";
    return { name, id: meta.id, rootfs, layers, diffIds: meta.diffIds, ...rest(meta), config };
  }

  private readMeta(id: string): ImageMeta | undefined {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    try {
      return JSON.parse(readFileSync(join(this.dir, id, "image.json"), "utf8")) as ImageMeta;
    } catch {
      return undefined;
    }
  }

  private readIndex(): { images: Record<string, string> } {
    const file = join(this.dir, "index.json");
    if (!existsSync(file)) return { images: {} };
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { images?: Record<string, string> };
    // Stores from before names were normalised hold bare names ("shop"): read as "shop:latest" (the
    // next write saves them so), unless that name is taken.
    const images: Record<string, string> = {};
    const stored = Object.entries(parsed.images ?? {});
    for (const [name, id] of stored) if (normaliseName(name) === name) images[name] = id;
    for (const [name, id] of stored) images[normaliseName(name)] ??= id;
    return { images };
  }

  /** Read-modify-write of the index, written to a temp file and renamed into place. */
  private async writeIndex(change: (images: Record<string, string>) => void): Promise<void> {
    const index = this.readIndex();
    change(index.images);
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `.index-${process.pid}-${randomBytes(4).toString("hex")}.json`);
    writeFileSync(tmp, JSON.stringify(index, null, 2) + "\n");
    renameSync(tmp, join(this.dir, "index.json"));
  }

  /** One mutation at a time. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }
}

function rest(meta: ImageMeta): Pick<ImageRecord, "created" | "sizeBytes" | "comment" | "author"> {
  return {
    created: meta.created,
    sizeBytes: meta.sizeBytes,
    ...(meta.comment ? { comment: meta.comment } : {}),
    ...(meta.author ? { author: meta.author } : {}),
  };
}
