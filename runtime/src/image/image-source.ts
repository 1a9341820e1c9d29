// Reads an unpacked image archive: an OCI image layout (oci-layout, index.json, blobs/sha256/...) or
// a `docker save` folder (manifest.json, <id>.json configs, layer tars; the newer docker save is both,
// and manifest.json is preferred there for its RepoTags). Yields one candidate per image it names.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { digestHex, sha256File } from "./digest";
import { ImageError } from "./errors";
import { isObject } from "./image-config";
import type { LayerSource } from "./layer-store";

export interface ImageCandidate {
  /** Names the archive gives the image (RepoTags, ref.name annotations), normalised; may be empty. */
  tags: string[];
  configPath: string;
  /** "sha256:..." the config must hash to, when the archive names it. */
  configDigest?: string;
  layers: Array<Omit<LayerSource, "diffId" | "what">>;
}

const INDEX_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);
const MANIFEST_TYPES = new Set([
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
]);

/** True when the folder looks like an image archive rather than a root filesystem. */
export function isImageDir(dir: string): boolean {
  return existsSync(join(dir, "manifest.json")) || existsSync(join(dir, "oci-layout"));
}

export async function readImageDir(dir: string): Promise<ImageCandidate[]> {
  if (existsSync(join(dir, "manifest.json"))) return readDockerSave(dir);
  if (existsSync(join(dir, "index.json"))) return readOciLayout(dir);
  throw new ImageError(
    "BAD_ARCHIVE",
    `${dir} holds neither manifest.json (docker save) nor index.json (OCI layout); it is not an image archive`,
  );
}

/** "busybox" → "busybox:latest"; "docker.io/library/x:1" → "x:1"; digests are left as they are. */
export function normaliseName(name: string): string {
  let n = name.replace(/^docker\.io\/library\//, "").replace(/^docker\.io\//, "");
  if (!n.includes("@") && !/:[^/]+$/.test(n)) n = `${n}:latest`;
  return n;
}

/** A reference as given to a command: normalised when it can be a name, else (an id) as it is. */
export function normaliseRef(ref: string): string {
  return /^[a-zA-Z0-9]/.test(ref) ? normaliseName(ref) : ref;
}

/** Whether two references name the same image ("busybox" and "docker.io/library/busybox:latest"). */
export function sameImageName(a: string, b: string): boolean {
  return normaliseRef(a) === normaliseRef(b);
}

async function readDockerSave(dir: string): Promise<ImageCandidate[]> {
  const list = readJson(join(dir, "manifest.json"), "manifest.json");
  if (!Array.isArray(list) || list.length === 0) {
    throw new ImageError("BAD_ARCHIVE", "manifest.json must be a non-empty list of images (docker save)");
  }
  return list.map((entry, i) => {
    const what = `manifest.json entry ${i}`;
    if (!isObject(entry) || typeof entry.Config !== "string" || !Array.isArray(entry.Layers)) {
      throw new ImageError("BAD_ARCHIVE", `${what} needs Config (a path) and Layers (a list of paths)`);
    }
    const sources = isObject(entry.LayerSources) ? entry.LayerSources : {};
    const layers = entry.Layers.map((l: unknown, j: number) => {
      if (typeof l !== "string") throw new ImageError("BAD_ARCHIVE", `${what}: Layers[${j}] must be a path`);
      const blobDigest = digestInPath(l);
      const src = blobDigest ? sources[blobDigest] : undefined;
      const size = isObject(src) && typeof src.size === "number" ? src.size : undefined;
      return { path: inside(dir, l, `${what} Layers[${j}]`), blobDigest, sizeBytes: size };
    });
    const repoTags = Array.isArray(entry.RepoTags) ? entry.RepoTags : [];
    return {
      tags: repoTags.filter((t): t is string => typeof t === "string").map(normaliseName),
      configPath: inside(dir, entry.Config, `${what} Config`),
      configDigest: digestInPath(entry.Config),
      layers,
    };
  });
}

async function readOciLayout(dir: string): Promise<ImageCandidate[]> {
  const index = readJson(join(dir, "index.json"), "index.json");
  const out: ImageCandidate[] = [];
  for (const d of descriptors(index, "index.json")) {
    const ann = isObject(d.annotations) ? d.annotations : {};
    const name = ann["io.containerd.image.name"] ?? ann["org.opencontainers.image.ref.name"];
    const manifest = await resolveManifest(dir, d, 0);
    const config = isObject(manifest.config) ? manifest.config : {};
    const configDigest = String(config.digest);
    out.push({
      tags: typeof name === "string" ? [normaliseName(name)] : [],
      configPath: blobPath(dir, configDigest, "the manifest's config"),
      configDigest,
      layers: descriptors({ manifests: manifest.layers }, "manifest layers").map((l) => ({
        path: blobPath(dir, l.digest, "a layer"),
        blobDigest: String(l.digest),
        sizeBytes: typeof l.size === "number" ? l.size : undefined,
        mediaType: typeof l.mediaType === "string" ? l.mediaType : undefined,
      })),
    });
  }
  return out;
}

/** Follows an index descriptor to an image manifest, picking this host's platform from an index. */
async function resolveManifest(
  dir: string,
  d: Record<string, unknown>,
  depth: number,
): Promise<Record<string, unknown>> {
  if (depth > 4) throw new ImageError("BAD_ARCHIVE", "index.json nests indexes more than 4 deep");
  const blob = await readBlob(dir, d, `the manifest ${String(d.digest)}`);
  const type = d.mediaType ?? (isObject(blob) ? blob.mediaType : undefined);
  if (isObject(blob) && (INDEX_TYPES.has(String(type)) || Array.isArray(blob.manifests))) {
    const arch = ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" } as Record<string, string>)[
      process.arch
    ];
    const all = descriptors(blob, `index ${String(d.digest)}`);
    const pick = all.find(
      (m) => isObject(m.platform) && m.platform.os === "linux" && m.platform.architecture === arch,
    );
    const only = all.length === 1 ? all[0] : undefined;
    if (!pick && !only) {
      throw new ImageError(
        "BAD_ARCHIVE",
        `index ${String(d.digest)} has no manifest for linux/${arch}; export the image for this platform`,
      );
    }
    return resolveManifest(dir, (pick ?? only) as Record<string, unknown>, depth + 1);
  }
  if (!isObject(blob) || (type !== undefined && !MANIFEST_TYPES.has(String(type)))) {
    throw new ImageError("BAD_MEDIA_TYPE", `manifest ${String(d.digest)} has media type ${String(type)}`);
  }
  return blob;
}

function descriptors(doc: unknown, what: string): Array<Record<string, unknown>> {
  const list = isObject(doc) ? doc.manifests : undefined;
  if (!Array.isArray(list) || !list.every(isObject)) {
    throw new ImageError("BAD_ARCHIVE", `${what} must list descriptors ({mediaType, digest, size})`);
  }
  return list;
}

/** A blob read whole and checked against its descriptor's digest and size. */
async function readBlob(dir: string, d: Record<string, unknown>, what: string): Promise<unknown> {
  const path = blobPath(dir, d.digest, what);
  if (!existsSync(path)) {
    throw new ImageError(
      "BAD_ARCHIVE",
      `${what} points to blob ${String(d.digest)}, which is not in the archive`,
    );
  }
  const { hex, sizeBytes } = await sha256File(path, what);
  if (hex !== digestHex(d.digest, what) || (typeof d.size === "number" && d.size !== sizeBytes)) {
    throw new ImageError("BAD_DIGEST", `${what}: blob content has sha256:${hex}, not ${String(d.digest)}`);
  }
  return readJson(path, what);
}

function blobPath(dir: string, digest: unknown, what: string): string {
  return join(dir, "blobs", "sha256", digestHex(digest, what));
}

/** The digest a path like "blobs/sha256/<hex>" or "<hex>.json" spells, if it spells one. */
function digestInPath(p: string): string | undefined {
  const m = /(?:^|\/)(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.json)?$/.exec(p);
  return m ? `sha256:${m[1]}` : undefined;
}

/** A path the manifest names, refused when it leaves the archive. */
function inside(dir: string, p: string, what: string): string {
  const full = resolve(dir, p);
  if (!full.startsWith(resolve(dir) + sep)) {
    throw new ImageError("UNSAFE_PATH", `${what} "${p}" points outside the archive`);
  }
  return full;
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ImageError("BAD_ARCHIVE", `${what} is missing from the archive`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ImageError("BAD_ARCHIVE", `${what} is not valid JSON (${(err as Error).message})`);
  }
}
