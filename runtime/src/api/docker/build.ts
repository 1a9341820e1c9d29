// POST /build (docker build with the classic builder, docker-compose build, weft build): the body is
// the build context as a tar (gzip allowed), unpacked into a scratch folder; the answer is Docker's
// JSON message stream ({"stream": "Step 1/4 : FROM busybox\n"}, the RUN output, {"aux": {"ID"}}), and
// a failure after the stream began is its {"error", "errorDetail"} message, which the CLI prints and
// exits 1 on. The client going away cancels the build (the running step is killed).
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { ContainerFs } from "../../copy/container-fs";
import { extractInto } from "../../copy/extract";
import { normaliseName } from "../../image/index";
import type { DockerEngine } from "./engine";
import { badRequest, dockerError, flag, imageId } from "./wire";

function jsonStrings(query: URLSearchParams, name: string): Record<string, string> {
  const raw = query.get(name);
  if (raw === null || raw === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw badRequest(`${name} must be a JSON object of strings, such as {"VERSION":"1.2"}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw badRequest(`${name} must be a JSON object of strings, such as {"VERSION":"1.2"}`);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    // docker build --build-arg NAME (no value, not in the environment) sends null: not given.
    if (value === null) continue;
    if (typeof value !== "string") throw badRequest(`${name}.${k} must be a string`);
    out[k] = value;
  }
  return out;
}

/** The request body, gunzipped when it starts as gzip does (docker build --compress). */
async function* contextChunks(req: IncomingMessage): AsyncGenerator<Buffer> {
  const it = req[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = first.value as Buffer;
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value as Buffer;
  }
  if (head[0] === 0x1f && head[1] === 0x8b) yield* Readable.from(all()).pipe(createGunzip());
  else yield* all();
}

/** The query's options, checked before the context is read. */
function buildOptions(query: URLSearchParams) {
  const remote = query.get("remote");
  if (remote)
    throw badRequest(
      `remote build contexts (${remote}) are not supported: weft builds offline; build from a local folder ('docker build -t NAME .')`,
    );
  const tags = query
    .getAll("t")
    .filter((t) => t !== "")
    .map((t) => normaliseName(t));
  if (tags.length === 0)
    throw badRequest("a build needs -t NAME[:TAG]: weft keeps no unnamed images ('docker build -t NAME .')");
  return {
    tags,
    buildArgs: jsonStrings(query, "buildargs"),
    labels: jsonStrings(query, "labels"),
    quiet: flag(query, "q"),
    noCache: flag(query, "nocache"),
  };
}

export async function buildImage(
  engine: Pick<DockerEngine, "build">,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  let options: ReturnType<typeof buildOptions>;
  try {
    options = buildOptions(query);
    if (!engine.build) throw dockerError(501, "this engine cannot build images");
  } catch (err) {
    req.resume(); // the context is not read: the answer comes at once
    throw err;
  }
  const build = engine.build.bind(engine);
  const { tags, buildArgs, labels, quiet, noCache } = options;
  const dir = await mkdtemp(join(tmpdir(), "weft-build-context-"));
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  try {
    const fs = new ContainerFs({ name: "the build context", rootfs: dir, mounts: [], readOnlyRoot: false });
    try {
      await extractInto(fs, "/", contextChunks(req), { confine: true });
    } catch (err) {
      throw badRequest(
        `the build context is not a tar archive docker build would send: ${(err as Error).message}`,
      );
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    const send = (m: object) => res.write(`${JSON.stringify(m)}\r\n`);
    try {
      const image = await build(
        {
          contextDir: dir,
          dockerfile: query.get("dockerfile") || "Dockerfile",
          tags,
          buildArgs,
          labels,
          target: query.get("target") || undefined,
          noCache,
          signal: abort.signal,
        },
        (text) => {
          if (!quiet) send({ stream: text });
        },
      );
      send({ aux: { ID: imageId(image.id) } });
      if (quiet) send({ stream: `${imageId(image.id)}\n` });
    } catch (err) {
      const message = (err as Error).message;
      send({ errorDetail: { message }, error: message });
    }
    res.end();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * POST /build/prune (docker builder prune): empties the build cache; what it held, as Docker answers
 * (CachesDeleted, SpaceReclaimed). Its filters and keep-storage are not taken: the whole cache goes.
 */
export async function pruneBuildCache(engine: Pick<DockerEngine, "pruneBuildCache">, query: URLSearchParams) {
  for (const name of ["filters", "keep-storage", "reserved-space", "max-used-space", "min-free-space"]) {
    const value = query.get(name);
    if (value && value !== "{}" && value !== "0")
      throw badRequest(
        `docker builder prune --${name === "filters" ? "filter" : name} is not supported here; prune the whole cache without it`,
      );
  }
  const pruned = (await engine.pruneBuildCache?.()) ?? { entries: [], bytes: 0 };
  return { CachesDeleted: pruned.entries.map((e) => imageId(e.id)), SpaceReclaimed: pruned.bytes };
}
