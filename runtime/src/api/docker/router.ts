// The Docker Engine API on the daemon's socket (everything not under /weft/): version prefix
// negotiation, the route table, and Docker's error wording for the engine's errors.
import type { IncomingMessage, ServerResponse } from "node:http";
import { cpus } from "node:os";
import type { Duplex } from "node:stream";
import { validateUpdate } from "../../engine/validate-lifecycle";
import { type ArchiveApi, changesJson, getArchive, getExport, headArchive, putArchive } from "../archive";
import { readJson } from "../http";
import { buildImage, pruneBuildCache } from "./build";
import {
  createContainer,
  inspectContainer,
  killContainer,
  listContainers,
  pauseContainer,
  pruneContainers,
  removeContainer,
  restartContainer,
  startContainer,
  stopContainer,
  waitContainer,
} from "./containers";
import { weftUpdateOf } from "./create-body";
import type { DockerEngine } from "./engine";
import { ExecStore } from "./exec-store";
import {
  attachContainer,
  readUpgradeBody,
  rejectUpgrade,
  type StreamConn,
  startExec,
  upgradeConn,
} from "./hijack";
import {
  commitContainer,
  createImage,
  imageHistory,
  imageJson,
  imageList,
  loadImages,
  pruneImages,
  removeImage,
  saveImages,
  tagImage,
} from "./images";
import { streamLogs, streamStats } from "./logs-stats";
import {
  connectNetwork,
  createNetwork,
  disconnectNetwork,
  inspectNetwork,
  listNetworks,
  pruneNetworks,
  removeNetwork,
} from "./networks";
import { info, ping, streamEvents, systemDf, version } from "./system";
import { createVolume, inspectVolume, listVolumes, pruneVolumes, removeVolume } from "./volumes";
import {
  badRequest,
  dockerError,
  MAX_API_VERSION,
  MIN_API_VERSION,
  sendDockerJson,
  sendEmpty,
  versionBefore,
} from "./wire";

interface Ctx {
  engine: DockerEngine;
  execs: ExecStore;
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  ref: string;
  /** The API version the client asked for ("1.41"), or the newest this server speaks when it named none. */
  version: string;
}

type Handler = (c: Ctx) => Promise<void> | void;
type Kind = "container" | "image" | "exec" | "volume" | "none";

const json =
  (fn: (c: Ctx) => unknown | Promise<unknown>): Handler =>
  async (c) =>
    sendDockerJson(c.res, 200, await fn(c));

/** A terminal size query parameter (resize's h and w): a whole number, at most 1000. */
function size(name: string, query: URLSearchParams): number {
  const v = query.get(name) ?? "";
  if (!/^\d+$/.test(v)) throw badRequest(`${name} must be a whole number, got "${v}"`);
  return Math.min(1000, Number(v));
}

const ROUTES: Array<[string, RegExp, Kind, Handler]> = [
  ["GET", /^\/_ping$/, "none", (c) => ping(c.req, c.res)],
  ["HEAD", /^\/_ping$/, "none", (c) => ping(c.req, c.res)],
  ["GET", /^\/version$/, "none", json(() => version())],
  ["GET", /^\/info$/, "none", json((c) => info(c.engine))],
  ["GET", /^\/system\/df$/, "none", json((c) => systemDf(c.engine))],
  ["GET", /^\/events$/, "none", (c) => streamEvents(c.engine, c.req, c.res, c.query)],
  ["GET", /^\/images\/json$/, "none", json((c) => imageList(c.engine, c.query))],
  ["GET", /^\/images\/get$/, "none", (c) => saveImages(c.engine, c.res, c.query.getAll("names"))],
  ["GET", /^\/images\/(.+)\/get$/, "image", (c) => saveImages(c.engine, c.res, [c.ref])],
  ["POST", /^\/images\/load$/, "none", (c) => loadImages(c.engine, c.req, c.res)],
  ["POST", /^\/commit$/, "none", (c) => commitContainer(c.engine, c.req, c.res, c.query)],
  ["POST", /^\/images\/create$/, "none", (c) => createImage(c.engine, c.req, c.res, c.query)],
  ["POST", /^\/build$/, "none", (c) => buildImage(c.engine, c.req, c.res, c.query)],
  ["POST", /^\/build\/prune$/, "none", json((c) => pruneBuildCache(c.engine, c.query))],
  ["POST", /^\/images\/prune$/, "none", json((c) => pruneImages(c.engine, c.query))],
  ["GET", /^\/images\/(.+)\/json$/, "image", json((c) => imageJson(c.engine, c.ref))],
  ["GET", /^\/images\/(.+)\/history$/, "image", json((c) => imageHistory(c.engine, c.ref))],
  ["POST", /^\/images\/(.+)\/tag$/, "image", (c) => tagImage(c.engine, c.res, c.ref, c.query)],
  ["DELETE", /^\/images\/(.+)$/, "image", json((c) => removeImage(c.engine, c.ref, c.query))],
  ["POST", /^\/containers\/create$/, "image", (c) => createContainer(c.engine, c.req, c.res, c.query)],
  ["POST", /^\/containers\/prune$/, "none", json((c) => pruneContainers(c.engine, c.query))],
  ["GET", /^\/containers\/json$/, "none", json((c) => listContainers(c.engine, c.query))],
  ["GET", /^\/containers\/([^/]+)\/json$/, "container", json((c) => inspectContainer(c.engine, c.ref))],
  ["POST", /^\/containers\/([^/]+)\/start$/, "container", (c) => startContainer(c.engine, c.res, c.ref)],
  [
    "POST",
    /^\/containers\/([^/]+)\/stop$/,
    "container",
    (c) => stopContainer(c.engine, c.res, c.ref, c.query),
  ],
  [
    "POST",
    /^\/containers\/([^/]+)\/restart$/,
    "container",
    (c) => restartContainer(c.engine, c.res, c.ref, c.query),
  ],
  [
    "POST",
    /^\/containers\/([^/]+)\/kill$/,
    "container",
    (c) => killContainer(c.engine, c.res, c.ref, c.query),
  ],
  [
    "POST",
    /^\/containers\/([^/]+)\/update$/,
    "container",
    json(async (c) => {
      await c.engine.update(c.ref, validateUpdate(weftUpdateOf(await readJson(c.req))));
      return { Warnings: [] };
    }),
  ],
  [
    "POST",
    /^\/containers\/([^/]+)\/pause$/,
    "container",
    (c) => pauseContainer(c.engine, c.res, c.ref, true),
  ],
  [
    "POST",
    /^\/containers\/([^/]+)\/unpause$/,
    "container",
    (c) => pauseContainer(c.engine, c.res, c.ref, false),
  ],
  [
    "POST",
    /^\/containers\/([^/]+)\/wait$/,
    "container",
    (c) => waitContainer(c.engine, c.res, c.ref, c.query),
  ],
  ["DELETE", /^\/containers\/([^/]+)$/, "container", (c) => removeContainer(c.engine, c.res, c.ref, c.query)],
  [
    "POST",
    /^\/containers\/([^/]+)\/rename$/,
    "container",
    async (c) => {
      const name = (c.query.get("name") ?? "").replace(/^\//, "");
      if (name === "") throw badRequest("rename needs ?name=NEW_NAME");
      await c.engine.rename(c.ref, name);
      sendEmpty(c.res, 204);
    },
  ],
  [
    "GET",
    /^\/containers\/([^/]+)\/logs$/,
    "container",
    (c) => streamLogs(c.engine, c.req, c.res, c.ref, c.query),
  ],
  [
    "GET",
    /^\/containers\/([^/]+)\/stats$/,
    "container",
    (c) => streamStats(c.engine, c.req, c.res, c.ref, c.query, cpus().length),
  ],
  [
    "GET",
    /^\/containers\/([^/]+)\/top$/,
    "container",
    json(async (c) => {
      const t = await c.engine.top(c.ref, (c.query.get("ps_args") ?? "").split(" ").filter(Boolean));
      return { Titles: t.titles, Processes: t.processes };
    }),
  ],
  // The CLI sends this for -t at start and on every SIGWINCH; a container without a tty ignores it.
  [
    "POST",
    /^\/containers\/([^/]+)\/resize$/,
    "container",
    async (c) => {
      const state = await c.engine.inspect(c.ref);
      c.engine.resize(state.id, size("h", c.query), size("w", c.query));
      sendEmpty(c.res, 200);
    },
  ],
  [
    "POST",
    /^\/containers\/([^/]+)\/attach$/,
    "container",
    (c) => attachContainer(c.engine, c.ref, c.query, () => plainConn(c)),
  ],
  [
    "POST",
    /^\/containers\/([^/]+)\/exec$/,
    "container",
    async (c) => {
      const state = await c.engine.inspect(c.ref);
      if (state.status !== "running") throw dockerError(409, `container ${state.id} is not running`);
      if (state.paused)
        throw dockerError(409, `Container ${state.id} is paused, unpause the container before exec`);
      const exec = c.execs.create(state.id, await readJson(c.req));
      sendDockerJson(c.res, 201, { Id: exec.id });
    },
  ],
  [
    "POST",
    /^\/exec\/([^/]+)\/start$/,
    "exec",
    async (c) => {
      const body = (await readJson(c.req)) as { Detach?: unknown; ConsoleSize?: unknown };
      const detach = body.Detach === true;
      const consoleSize = body.ConsoleSize;
      if (Array.isArray(consoleSize) && consoleSize.length === 2) {
        const [rows, cols] = consoleSize as unknown[];
        if (typeof rows === "number" && typeof cols === "number" && rows > 0 && cols > 0)
          c.execs.get(c.ref).size = { rows: Math.min(rows, 65535), cols: Math.min(cols, 65535) };
      }
      const started = startExec(c.engine, c.execs, c.ref, () => (detach ? undefined : plainConn(c)));
      if (!detach) return started;
      // Detached: answer once it runs; its exit code is recorded for inspect.
      sendEmpty(c.res, 200);
      started.catch(() => undefined);
    },
  ],
  [
    "POST",
    /^\/exec\/([^/]+)\/resize$/,
    "exec",
    async (c) => {
      const exec = c.execs.get(c.ref);
      const rows = size("h", c.query);
      const cols = size("w", c.query);
      // Before the start, or on an exec without a terminal: kept for the start, or nothing to do.
      exec.size = { rows, cols };
      if (exec.resize && exec.running) await exec.resize(rows, cols);
      sendEmpty(c.res, 200);
    },
  ],
  ["GET", /^\/exec\/([^/]+)\/json$/, "exec", json((c) => c.execs.inspect(c.ref))],
  ["GET", /^\/containers\/([^/]+)\/changes$/, "container", json((c) => changesJson(archiveOf(c), c.ref))],
  ["GET", /^\/containers\/([^/]+)\/export$/, "container", (c) => getExport(archiveOf(c), c.res, c.ref)],
  [
    "HEAD",
    /^\/containers\/([^/]+)\/archive$/,
    "container",
    (c) => headArchive(archiveOf(c), c.res, c.ref, c.query),
  ],
  [
    "GET",
    /^\/containers\/([^/]+)\/archive$/,
    "container",
    (c) => getArchive(archiveOf(c), c.res, c.ref, c.query),
  ],
  [
    "PUT",
    /^\/containers\/([^/]+)\/archive$/,
    "container",
    (c) => putArchive(archiveOf(c), c.req, c.res, c.ref, c.query),
  ],
  ["GET", /^\/volumes$/, "none", json((c) => listVolumes(c.engine, c.query))],
  ["POST", /^\/volumes\/create$/, "none", (c) => createVolume(c.engine, c.req, c.res)],
  ["POST", /^\/volumes\/prune$/, "none", json((c) => pruneVolumes(c.engine, c.query, c.version))],
  ["GET", /^\/volumes\/([^/]+)$/, "volume", json((c) => inspectVolume(c.engine, c.ref))],
  ["DELETE", /^\/volumes\/([^/]+)$/, "volume", (c) => removeVolume(c.engine, c.res, c.ref)],
  ["GET", /^\/networks$/, "none", json((c) => listNetworks(c.engine, c.query))],
  ["POST", /^\/networks\/create$/, "none", (c) => createNetwork(c.engine, c.req, c.res)],
  ["POST", /^\/networks\/prune$/, "none", json((c) => pruneNetworks(c.engine, c.query))],
  ["GET", /^\/networks\/([^/]+)$/, "none", json((c) => inspectNetwork(c.engine, c.ref))],
  ["DELETE", /^\/networks\/([^/]+)$/, "none", (c) => removeNetwork(c.engine, c.res, c.ref)],
  ["POST", /^\/networks\/([^/]+)\/connect$/, "none", (c) => connectNetwork(c.engine, c.req, c.res, c.ref)],
  [
    "POST",
    /^\/networks\/([^/]+)\/disconnect$/,
    "none",
    (c) => disconnectNetwork(c.engine, c.req, c.res, c.ref),
  ],
];

/** The engine's archive verbs (a fake without files has none: 501). */
function archiveOf(c: Ctx): ArchiveApi {
  const e = c.engine;
  if (!e.statPath || !e.archive || !e.extract || !e.changes || !e.exportFs)
    throw dockerError(501, "this engine cannot read containers' files");
  return {
    statPath: e.statPath.bind(e),
    archive: e.archive.bind(e),
    extract: e.extract.bind(e),
    changes: e.changes.bind(e),
    exportFs: e.exportFs.bind(e),
  };
}

const stores = new WeakMap<DockerEngine, ExecStore>();
function execStore(engine: DockerEngine): ExecStore {
  let s = stores.get(engine);
  if (!s) {
    s = new ExecStore();
    stores.set(engine, s);
  }
  return s;
}

/** A streamed answer on an ordinary (not upgraded) response: output only, no stdin. */
function plainConn(c: Ctx): StreamConn {
  c.res.writeHead(200, { "Content-Type": "application/vnd.docker.multiplexed-stream" });
  return {
    write: (chunk) => {
      c.res.write(chunk);
    },
    end: () => c.res.end(),
    closed: new Promise((resolve) => c.res.once("close", () => resolve())),
  };
}

/** Strips /vX.Y, refusing versions outside what this server speaks with Docker's own messages. */
export function apiPath(rawUrl: string): { path: string; query: URLSearchParams; version: string } {
  const url = new URL(rawUrl, "http://docker");
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
  if (!m) {
    if (/^\/v[^/]*\//.test(url.pathname)) throw badRequest(`invalid API version in path ${url.pathname}`);
    return { path: url.pathname, query: url.searchParams, version: MAX_API_VERSION };
  }
  const v = m[1] as string;
  if (versionBefore(v, MIN_API_VERSION)) {
    throw badRequest(
      `client version ${v} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
  if (versionBefore(MAX_API_VERSION, v)) {
    throw badRequest(`client version ${v} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
  }
  return { path: m[2] as string, query: url.searchParams, version: v };
}

/** The engine's not-found errors in Docker's words, which scripts and the CLI match on. */
function translate(err: unknown, kind: Kind, ref: string): unknown {
  const code = (err as { code?: unknown }).code;
  if (
    code === "CONTAINER_NOT_FOUND" &&
    kind === "container" &&
    (err as { status?: unknown }).status === undefined
  ) {
    return dockerError(404, `No such container: ${ref}`);
  }
  if (code === "IMAGE_NOT_FOUND" && kind === "image" && ref !== "")
    return dockerError(404, `No such image: ${ref}`);
  return err;
}

function match(method: string, path: string) {
  let pathMatched = false;
  for (const [m, re, kind, handler] of ROUTES) {
    const hit = re.exec(path);
    if (!hit) continue;
    pathMatched = true;
    if (m === method) return { kind, handler, ref: decodeURIComponent(hit[1] ?? "") };
  }
  throw pathMatched
    ? dockerError(405, `${method} is not allowed on ${path}`)
    : dockerError(404, "page not found");
}

/** Serves one Docker API request; throws (already in Docker's words) for the server to answer. */
export async function routeDocker(
  engine: DockerEngine,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { path, query, version } = apiPath(req.url ?? "/");
  const { kind, handler, ref } = match(req.method ?? "GET", path);
  try {
    await handler({ engine, execs: execStore(engine), req, res, query, ref, version });
  } catch (err) {
    throw translate(err, kind, ref);
  }
}

/** Serves a request with `Upgrade: tcp` (attach, exec start); errors before the 101 are HTTP answers. */
export async function routeDockerUpgrade(
  engine: DockerEngine,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  let upgraded = false;
  let kind: Kind = "none";
  let ref = "";
  try {
    const { path, query } = apiPath(req.url ?? "/");
    const m = match(req.method ?? "GET", path);
    kind = m.kind;
    ref = m.ref;
    const { body, rest } = await readUpgradeBody(req, socket, head);
    const open = (tty: boolean) => {
      upgraded = true;
      return upgradeConn(socket, rest, tty);
    };
    if (/^\/containers\/[^/]+\/attach$/.test(path)) {
      await attachContainer(engine, ref, query, open);
    } else if (/^\/exec\/[^/]+\/start$/.test(path)) {
      const text = body.toString("utf8").trim();
      let detach = false;
      try {
        detach = text !== "" && (JSON.parse(text) as { Detach?: unknown }).Detach === true;
      } catch {
        throw badRequest("body is not valid JSON");
      }
      if (detach)
        throw badRequest("a detached exec does not upgrade the connection; send it without Upgrade");
      await startExec(engine, execStore(engine), ref, open);
    } else {
      throw badRequest(`${req.method} ${path} does not upgrade the connection`);
    }
  } catch (err) {
    if (upgraded) socket.destroy();
    else rejectUpgrade(socket, translate(err, kind, ref));
  }
}
