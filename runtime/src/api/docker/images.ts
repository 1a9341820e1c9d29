// Images in Docker's shapes: `docker images` (one entry per image id with its RepoTags), inspect,
// `docker load` (a docker-save tar streamed to a temp file, then imported), `docker import` (a
// rootfs tarball as POST /images/create?fromSrc=-) and `docker rmi`.
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { ImageInfo } from "../../engine/parts";
import { globRegExp } from "../../image/glob";
import { healthcheckJson } from "../../image/image-config";
import { lookupImageRef, normaliseName } from "../../image/index";
import { sendTar } from "../archive";
import type { DockerEngine } from "./engine";
import { badRequest, dockerError, flag, imageId, parseFilters, pruneFilters } from "./wire";

/** The stored images a Docker reference names, by the store's rule (lookupImageRef): a name
 * names that one image; an id or id prefix every name that id has. */
export function resolveImage(engine: DockerEngine, ref: string): { images: ImageInfo[]; byName: boolean } {
  const all = engine.images();
  const found = lookupImageRef(ref, Object.fromEntries(all.map((i) => [i.name, i.id])));
  if (!found) throw dockerError(404, `No such image: ${ref}`);
  const images = found.byName
    ? all.filter((i) => i.name === found.name)
    : all.filter((i) => i.id === found.id);
  return { images, byName: found.byName };
}

/** What a container create passes to the engine for `ref`: a name as typed (the engine normalises
 * it, and the container lists it as typed); an image id is replaced with that image's name. With
 * the image, whose config the create reads too (one lookup: the store reads its index from disk). */
export function imageForCreate(engine: DockerEngine, ref: string): { ref: string; image: ImageInfo } {
  const { images, byName } = resolveImage(engine, ref);
  const image = images[0] as ImageInfo;
  return { ref: byName ? ref : image.name, image };
}

/** GET /images/json: one entry per id, with every name that points at it. */
/** The filters GET /images/json takes, as docker images --filter. */
const IMAGE_FILTERS = ["reference", "dangling", "label", "before", "since"];

/**
 * GET /images/json: one entry per image id with its names. Filters as Docker's: reference=PATTERN
 * (Go's path.Match on the name, or on name:tag when the pattern has a tag; only the matching names
 * are listed), dangling=true (none: every weft image has a name), label=KEY or KEY=VALUE (all must
 * hold), before=IMAGE and since=IMAGE (created before or after that image).
 */
export function imageList(engine: DockerEngine, query = new URLSearchParams()) {
  const filters = parseFilters(query);
  for (const k of filters.keys())
    if (!IMAGE_FILTERS.includes(k))
      throw badRequest(`invalid filter '${k}': docker images takes ${IMAGE_FILTERS.join(", ")}`);
  const dangling = (filters.get("dangling") ?? []).map((v) => {
    if (!["true", "false", "1", "0"].includes(v))
      throw badRequest(`invalid filter 'dangling=${v}': use dangling=true or dangling=false`);
    return v === "true" || v === "1";
  });
  if (dangling.includes(true)) return [];
  const createdOf = (key: string) =>
    (filters.get(key) ?? []).map((ref) =>
      Date.parse((resolveImage(engine, ref).images[0] as ImageInfo).created),
    );
  const before = createdOf("before");
  const since = createdOf("since");
  const labels = (filters.get("label") ?? []).map((l) => {
    const eq = l.indexOf("=");
    return eq < 0 ? { key: l } : { key: l.slice(0, eq), value: l.slice(eq + 1) };
  });
  const patterns = (filters.get("reference") ?? []).map((p) => ({
    re: globRegExp(normaliseRefPattern(p)),
    withTag: p.includes(":"),
  }));
  const named = (name: string) =>
    patterns.length === 0 ||
    patterns.some(({ re, withTag }) => re.test(withTag ? name : name.slice(0, name.lastIndexOf(":"))));
  const byId = new Map<string, ImageInfo[]>();
  for (const i of engine.images()) byId.set(i.id, [...(byId.get(i.id) ?? []), i]);
  return [...byId.values()].flatMap((all) => {
    const group = all.filter((i) => named(i.name));
    const first = group[0];
    if (!first) return [];
    const created = Date.parse(first.created);
    if (before.some((t) => created >= t) || since.some((t) => created <= t)) return [];
    const l = first.config.labels;
    if (!labels.every(({ key, value }) => key in l && (value === undefined || l[key] === value))) return [];
    return [
      {
        Id: imageId(first.id),
        ParentId: "",
        RepoTags: group.map((i) => i.name).sort(),
        RepoDigests: [],
        Created: Math.floor(created / 1000),
        Size: first.sizeBytes,
        SharedSize: -1,
        Labels: l,
        Containers: -1,
      },
    ];
  });
}

/** A reference pattern with Docker's long name forms read as weft stores names ("docker.io/library/x:1" is "x:1"). */
function normaliseRefPattern(p: string): string {
  return p.replace(/^(docker\.io\/)?library\//, "").replace(/^docker\.io\//, "");
}

/** GET /images/{name}/json. */
export function imageJson(engine: DockerEngine, ref: string) {
  const i = resolveImage(engine, ref).images[0] as ImageInfo;
  const sameId = engine.images().filter((x) => x.id === i.id);
  const c = i.config;
  const config = {
    User: c.user,
    Env: c.env,
    Cmd: c.cmd,
    Entrypoint: c.entrypoint.length > 0 ? c.entrypoint : null,
    WorkingDir: c.workdir,
    ExposedPorts: Object.fromEntries(c.exposedPorts.map((p) => [p, {}])),
    Labels: c.labels,
    ...(c.healthcheck ? { Healthcheck: healthcheckJson(c.healthcheck) } : {}),
    ...(c.stopSignal ? { StopSignal: c.stopSignal } : {}),
  };
  return {
    Id: imageId(i.id),
    RepoTags: sameId.map((x) => x.name).sort(),
    RepoDigests: [],
    Parent: "",
    Comment: i.comment ?? "",
    Created: i.created,
    DockerVersion: "",
    Author: i.author ?? "",
    Config: config,
    // Docker dropped it at API 1.45 (the config of the container an image was committed from), but
    // docker-compose 1.x, which negotiates the newest version, reads its Volumes when it recreates
    // a container and stops with KeyError: 'ContainerConfig' without it (as against Docker 25+).
    ContainerConfig: { ...config, Volumes: null },
    Architecture: process.arch === "x64" ? "amd64" : process.arch,
    Os: "linux",
    Size: i.sizeBytes,
    GraphDriver: { Name: "overlay", Data: null },
    RootFS: { Type: "layers", Layers: i.diffIds },
    Metadata: { LastTagTime: "0001-01-01T00:00:00Z" },
  };
}

/**
 * GET /images/{name}/history (docker history): one entry per layer, top first, with its size. Weft
 * keeps no build steps, so CreatedBy is empty; the top entry has the image's id, tags and comment,
 * the others are "<missing>" as Docker shows layers it has no image for.
 */
export function imageHistory(engine: DockerEngine, ref: string) {
  const i = resolveImage(engine, ref).images[0] as ImageInfo;
  const created = Math.floor(Date.parse(i.created) / 1000);
  const tags = engine
    .images()
    .filter((x) => x.id === i.id)
    .map((x) => x.name)
    .sort();
  const sizes =
    i.diffIds.length > 0 ? i.diffIds.map((d) => engine.layerBytes?.(d) ?? 0).reverse() : [i.sizeBytes];
  return sizes.map((size, n) => ({
    Id: n === 0 ? imageId(i.id) : "<missing>",
    Created: created,
    CreatedBy: "",
    Tags: n === 0 ? tags : null,
    Size: size,
    Comment: n === 0 ? (i.comment ?? "") : "",
  }));
}

/** Streams the request body into a temp file, calls `use` with its path, always deletes it. */
async function withUpload<T>(req: IncomingMessage, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "weft-docker-load-"));
  try {
    const path = join(dir, "upload.tar");
    await pipeline(req, createWriteStream(path, { mode: 0o600 }));
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function namesById(engine: DockerEngine): Map<string, string> {
  return new Map(engine.images().map((i) => [i.name, i.id]));
}

/** Answers as the JSON message stream the CLI displays (`{"stream": "Loaded image: x\n"}`). */
function sendMessages(res: ServerResponse, messages: object[]): void {
  res.writeHead(200, { "Content-Type": "application/json" });
  for (const m of messages) res.write(`${JSON.stringify(m)}\n`);
  res.end();
}

/** POST /images/load: the images of a docker-save (or OCI layout) tar, under their own tags. */
export async function loadImages(engine: DockerEngine, req: IncomingMessage, res: ServerResponse) {
  const before = namesById(engine);
  const imported = await withUpload(req, (path) => engine.importImage(path, ""));
  const loaded = [...namesById(engine)].filter(([name, id]) => before.get(name) !== id).map(([n]) => n);
  if (loaded.length === 0) loaded.push(imported.name || imageId(imported.id));
  sendMessages(
    res,
    loaded.map((n) => ({
      stream: n.startsWith("sha256:") ? `Loaded image ID: ${n}\n` : `Loaded image: ${n}\n`,
    })),
  );
}

/** POST /images/create: `docker import` (fromSrc=-); pulling from a registry is not possible. */
export async function createImage(
  engine: DockerEngine,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
) {
  const fromSrc = query.get("fromSrc");
  if (fromSrc === null) {
    const image = query.get("fromImage") ?? "";
    const tag = query.get("tag");
    req.resume();
    throw dockerError(
      404,
      `pull access denied for ${image}${tag ? `:${tag}` : ""}: weft does not pull from registries; 'docker save' it elsewhere and 'docker load -i FILE.tar' it here`,
    );
  }
  if (fromSrc !== "-")
    throw badRequest('fromSrc must be "-" (the tarball as the request body); weft does not fetch URLs');
  if (query.getAll("changes").some((c) => c !== "")) {
    throw badRequest(
      "changes (--change) is not supported by weft's import; set the command with 'docker run IMAGE CMD'",
    );
  }
  const repo = query.get("repo") ?? "";
  if (repo === "")
    throw badRequest("repo is required: give the image a name ('docker import FILE NAME[:TAG]')");
  const tag = query.get("tag");
  const name = normaliseName(tag ? `${repo}:${tag}` : repo);
  const imported = await withUpload(req, (path) => engine.importImage(path, name));
  sendMessages(res, [{ status: imageId(imported.id) }]);
}

/**
 * POST /commit?container=C&repo=R&tag=T&comment=&author=&pause=&changes= (docker commit): 201 {Id}.
 * The body (a container config Docker merges in) is not read: --change says what to set.
 */
export async function commitContainer(
  engine: DockerEngine,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
) {
  req.resume();
  if (!engine.commit) throw dockerError(501, "this engine cannot commit containers");
  const container = query.get("container") ?? "";
  if (container === "") throw badRequest("container is required ('docker commit CONTAINER NAME[:TAG]')");
  const repo = query.get("repo") ?? "";
  if (repo === "")
    throw badRequest(
      "repo is required: weft keeps no unnamed images; give one ('docker commit CONTAINER NAME[:TAG]')",
    );
  const tag = query.get("tag");
  const changes = query
    .getAll("changes")
    .flatMap((c) => c.split("\n"))
    .filter((c) => c.trim() !== "");
  let image: ImageInfo;
  try {
    image = await engine.commit(container, normaliseName(tag ? `${repo}:${tag}` : repo), {
      changes,
      comment: query.get("comment") || undefined,
      author: query.get("author") || undefined,
      pause: flag(query, "pause", true),
    });
  } catch (err) {
    if ((err as { code?: unknown }).code === "CONTAINER_NOT_FOUND")
      throw dockerError(404, `No such container: ${container}`);
    throw err;
  }
  res.writeHead(201, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ Id: imageId(image.id) }));
}

/**
 * GET /images/{name}/get and GET /images/get?names=A&names=B (docker save): one archive of every
 * image named, each looked up as Docker does (a name or an id prefix) before anything is written.
 */
export async function saveImages(engine: DockerEngine, res: ServerResponse, refs: string[]) {
  if (!engine.saveImages) throw dockerError(501, "this engine cannot save images");
  if (refs.length === 0) throw badRequest("names is required: the images to save ('docker save IMAGE...')");
  // A name saves that name; an id, every name it has (weft keeps no untagged images).
  const names = refs.flatMap((r) => resolveImage(engine, r).images.map((i) => i.name));
  await sendTar(res, engine.saveImages([...new Set(names)]), {});
}

/** POST /images/{name}/tag?repo=R&tag=T (docker tag): 201, no body. */
export async function tagImage(
  engine: DockerEngine,
  res: ServerResponse,
  ref: string,
  query: URLSearchParams,
) {
  const repo = query.get("repo") ?? "";
  if (repo === "") throw badRequest("repo is required: the new name ('docker tag SOURCE NAME[:TAG]')");
  const tag = query.get("tag");
  const [source] = resolveImage(engine, ref).images;
  await engine.tagImage((source as ImageInfo).name, tag ? `${repo}:${tag}` : repo);
  res.writeHead(201).end();
}

/** DELETE /images/{name}: Docker's list of untagged names and deleted ids. */
export async function removeImage(engine: DockerEngine, ref: string, query: URLSearchParams) {
  const { images: group, byName } = resolveImage(engine, ref);
  if (!byName && group.length > 1 && !flag(query, "force")) {
    throw dockerError(
      409,
      `conflict: unable to delete ${ref} (must be forced) - image is referenced in multiple repositories`,
    );
  }
  const out: object[] = [];
  for (const i of group) {
    await engine.removeImage(i.name);
    out.push({ Untagged: i.name });
  }
  const id = (group[0] as ImageInfo).id;
  if (!engine.images().some((i) => i.id === id)) out.push({ Deleted: imageId(id) });
  return out;
}

/**
 * POST /images/prune. Docker removes dangling (untagged) images unless the filter says
 * dangling=false (docker image prune -a): weft's images all have names, so only that form removes
 * anything, each image no container (running or stopped) was made from.
 */
export async function pruneImages(engine: DockerEngine, query: URLSearchParams) {
  const deleted: object[] = [];
  if (!pruneFilters(query, "image", "dangling").includes("false"))
    return { ImagesDeleted: deleted, SpaceReclaimed: 0 };
  const used = new Set((await engine.list(true)).map((c) => c.imageId));
  for (const image of engine.images()) {
    if (used.has(image.id)) continue;
    await engine.removeImage(image.name);
    deleted.push({ Untagged: image.name });
    if (!engine.images().some((i) => i.id === image.id)) deleted.push({ Deleted: imageId(image.id) });
  }
  return { ImagesDeleted: deleted, SpaceReclaimed: 0 };
}
