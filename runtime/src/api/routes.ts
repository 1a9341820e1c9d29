// The Weft API, under /weft/v1 (server.ts sends every /weft/ path here; the rest of the socket is the
// Docker Engine API). Every body field is validated here, errors name the field.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CommitOptions } from "../engine/commit";
import type { DiskUsage } from "../engine/disk-usage";
import type { ImageInfo } from "../engine/parts";
import type { ProcessTable } from "../engine/top";
import type { ContainerState, ContainerStats, ExecResult, LogsResult, RunSpec } from "../engine/types";
import { validateRunSpec } from "../engine/validate";
import { validateUpdate } from "../engine/validate-lifecycle";
import { RuntimeError } from "../errors";
import type { BuildProgress, BuildRequest } from "../image/dockerfile/build";
import type { BuildCacheUsage } from "../image/store";
import type { VolumeInfo } from "../volumes/index";
import {
  type ArchiveApi,
  changesJson,
  getArchive,
  getExport,
  headArchive,
  putArchive,
  sendTar,
} from "./archive";
import { type AttachApi, attachStreamRoute, resizeRoute } from "./attach-stream";
import { WEFT_API_PREFIX } from "./client";
import { buildImage } from "./docker/build";
import { type ExecStreamApi, execStreamRoute } from "./exec-stream";
import { queryBool, readJson, sendJson, sendText } from "./http";
import {
  eventsRoute,
  killRoute,
  type LifecycleApi,
  logsRoute,
  queryTimeout,
  restartRoute,
  startRoute,
  waitRoute,
} from "./routes-lifecycle";
import { type NetworksApi, networkRoutes } from "./routes-networks";

/** What the API needs of the engine (the Engine class; a fake in tests). */
export interface EngineApi extends LifecycleApi, ExecStreamApi, AttachApi, ArchiveApi, NetworksApi {
  run(spec: RunSpec): Promise<ContainerState>;
  create(spec: RunSpec): Promise<ContainerState>;
  list(all: boolean): Promise<ContainerState[]>;
  inspect(ref: string): Promise<ContainerState>;
  logs(ref: string): LogsResult;
  exec(ref: string, args: string[]): Promise<ExecResult>;
  stop(ref: string, timeoutS?: number): Promise<ContainerState>;
  remove(ref: string, force: boolean): Promise<void>;
  importImage(tarPath: string, name: string): Promise<ImageInfo>;
  images(): ImageInfo[];
  /** The image a name or image id (prefix) names; IMAGE_NOT_FOUND otherwise. */
  image(ref: string): ImageInfo;
  removeImage(name: string): Promise<void>;
  tagImage(source: string, target: string): Promise<ImageInfo>;
  stats(ref: string): Promise<ContainerStats>;
  top(ref: string, psArgs: string[]): Promise<ProcessTable>;
  listVolumes(): Array<VolumeInfo & { usedBy: string[] }>;
  createVolume(name: string): VolumeInfo;
  removeVolume(name: string): void;
  update(ref: string, u: ReturnType<typeof validateUpdate>): Promise<ContainerState>;
  rename(ref: string, name: string): Promise<ContainerState>;
  commit(ref: string, name: string, o: CommitOptions): Promise<ImageInfo>;
  saveImages(names: string[]): AsyncGenerator<Buffer>;
  diskUsage(): Promise<DiskUsage>;
  /** The builder's cache; absent: none (system df shows it empty, a prune removes nothing). */
  buildCacheUsage?(): BuildCacheUsage;
  pruneBuildCache?(): Promise<BuildCacheUsage>;
  /** weft build: a Dockerfile, as docker build's classic builder (image/dockerfile/build.ts). */
  build?(req: BuildRequest, progress: BuildProgress): Promise<ImageInfo>;
}

type Handler = (engine: EngineApi, req: IncomingMessage, res: ServerResponse, p: Params) => Promise<void>;
interface Params {
  query: URLSearchParams;
  ref: string;
}

function invalid(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}

const routes: Array<{ method: string; path: RegExp; handler: Handler }> = [
  { method: "GET", path: /^\/_ping$/, handler: async (_e, _q, res) => sendText(res, 200, "OK") },
  {
    method: "POST",
    path: /^\/containers\/create$/,
    handler: async (engine, req, res, { query }) => {
      const body = await readJson(req);
      const name = query.get("name");
      if (name !== null && body && typeof body === "object" && !Array.isArray(body)) {
        const bodyName = (body as Record<string, unknown>).name;
        if (bodyName !== undefined && bodyName !== name) {
          throw invalid(
            `name is given twice: "${name}" in the query and ${JSON.stringify(bodyName)} in the body`,
          );
        }
        (body as Record<string, unknown>).name = name === "" ? undefined : name;
      }
      // Creates and starts (as `weft run`); start=0 only creates (as `weft create`).
      const spec = validateRunSpec(body);
      const state = queryBool(query, "start", true) ? await engine.run(spec) : await engine.create(spec);
      sendJson(res, 201, { Id: state.id, Warnings: [], ...state });
    },
  },
  {
    method: "GET",
    path: /^\/containers\/json$/,
    handler: async (engine, _req, res, { query }) =>
      sendJson(res, 200, await engine.list(queryBool(query, "all"))),
  },
  {
    method: "GET",
    path: /^\/containers\/([^/]+)\/json$/,
    handler: async (engine, _req, res, { ref }) => sendJson(res, 200, await engine.inspect(ref)),
  },
  {
    method: "GET",
    path: /^\/containers\/([^/]+)\/logs$/,
    handler: (engine, req, res, { ref, query }) => logsRoute(engine, req, res, ref, query),
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/start$/,
    handler: (engine, _req, res, { ref }) => startRoute(engine, res, ref),
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/update$/,
    handler: async (engine, req, res, { ref }) =>
      sendJson(res, 200, await engine.update(ref, validateUpdate(await readJson(req)))),
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/commit$/,
    handler: async (engine, req, res, { ref }) => {
      const o = commitBody(await readJson(req));
      const image = await engine.commit(ref, o.name, o);
      sendJson(res, 201, { id: image.id, name: image.name });
    },
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/rename$/,
    handler: async (engine, _req, res, { ref, query }) => {
      const name = query.get("name");
      if (!name) throw new RuntimeError("INVALID_ARGUMENT", "rename needs ?name=NEW_NAME");
      sendJson(res, 200, await engine.rename(ref, name));
    },
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/pause$/,
    handler: async (engine, _req, res, { ref }) => sendJson(res, 200, await engine.pause(ref)),
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/unpause$/,
    handler: async (engine, _req, res, { ref }) => sendJson(res, 200, await engine.unpause(ref)),
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/kill$/,
    handler: (engine, _req, res, { ref, query }) => killRoute(engine, res, ref, query),
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/restart$/,
    handler: (engine, _req, res, { ref, query }) => restartRoute(engine, res, ref, query),
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/wait$/,
    handler: (engine, _req, res, { ref, query }) => waitRoute(engine, res, ref, query),
  },
  {
    method: "GET",
    path: /^\/events$/,
    handler: (engine, _req, res, { query }) => eventsRoute(engine, res, query),
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/exec$/,
    handler: async (engine, req, res, { ref }) => {
      const body = await readJson(req);
      const cmd = (body as { cmd?: unknown }).cmd;
      if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((c) => typeof c === "string")) {
        throw invalid("cmd must be a non-empty array of strings");
      }
      sendJson(res, 200, await engine.exec(ref, cmd as string[]));
    },
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/exec\/stream$/,
    handler: (engine, req, res, { ref, query }) => execStreamRoute(engine, req, res, ref, query),
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/attach$/,
    handler: (engine, req, res, { ref, query }) => attachStreamRoute(engine, req, res, ref, query),
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/resize$/,
    handler: (engine, _req, res, { ref, query }) => resizeRoute(engine, res, ref, query),
  },
  {
    method: "POST",
    path: /^\/containers\/([^/]+)\/stop$/,
    handler: async (engine, _req, res, { ref, query }) => {
      // Without t, the container's own --stop-timeout.
      await engine.stop(ref, queryTimeout(query));
      res.writeHead(204).end();
    },
  },
  {
    method: "DELETE",
    path: /^\/containers\/([^/]+)$/,
    handler: async (engine, _req, res, { ref, query }) => {
      await engine.remove(ref, queryBool(query, "force"));
      res.writeHead(204).end();
    },
  },
  {
    method: "GET",
    path: /^\/containers\/([^/]+)\/stats$/,
    handler: async (engine, _req, res, { ref }) => sendJson(res, 200, await engine.stats(ref)),
  },
  {
    method: "GET",
    path: /^\/containers\/([^/]+)\/top$/,
    // ps_args as Docker's API takes them: one string, split on spaces.
    handler: async (engine, _req, res, { ref, query }) =>
      sendJson(res, 200, await engine.top(ref, (query.get("ps_args") ?? "").split(" ").filter(Boolean))),
  },
  {
    method: "GET",
    path: /^\/containers\/([^/]+)\/changes$/,
    handler: async (engine, _req, res, { ref }) => sendJson(res, 200, changesJson(engine, ref)),
  },
  {
    method: "GET",
    path: /^\/containers\/([^/]+)\/export$/,
    handler: (engine, _req, res, { ref }) => getExport(engine, res, ref),
  },
  {
    method: "HEAD",
    path: /^\/containers\/([^/]+)\/archive$/,
    handler: async (engine, _req, res, { ref, query }) => headArchive(engine, res, ref, query),
  },
  {
    method: "GET",
    path: /^\/containers\/([^/]+)\/archive$/,
    handler: (engine, _req, res, { ref, query }) => getArchive(engine, res, ref, query),
  },
  {
    method: "PUT",
    path: /^\/containers\/([^/]+)\/archive$/,
    handler: (engine, req, res, { ref, query }) => putArchive(engine, req, res, ref, query),
  },
  {
    method: "GET",
    path: /^\/volumes$/,
    handler: async (engine, _req, res) => sendJson(res, 200, { Volumes: engine.listVolumes() }),
  },
  {
    method: "POST",
    path: /^\/volumes\/create$/,
    handler: async (engine, req, res) => {
      const name = ((await readJson(req)) ?? {}) as { Name?: unknown; name?: unknown };
      const n = name.Name ?? name.name;
      if (typeof n !== "string") throw invalid("Name is required (the volume's name)");
      sendJson(res, 201, engine.createVolume(n));
    },
  },
  {
    method: "DELETE",
    path: /^\/volumes\/([^/]+)$/,
    handler: async (engine, _req, res, { ref }) => {
      engine.removeVolume(ref);
      res.writeHead(204).end();
    },
  },
  ...networkRoutes.map((r) => ({
    ...r,
    handler: (engine: EngineApi, req: IncomingMessage, res: ServerResponse, p: Params) =>
      r.handler(engine, req, res, p.ref),
  })),
  {
    method: "POST",
    path: /^\/images\/import$/,
    handler: async (engine, req, res, { query }) => {
      const name = query.get("name");
      // Without a name, an image archive's images are imported under their own tags.
      const body = await readJson(req);
      const path = (body as { path?: unknown }).path;
      if (typeof path !== "string" || !path.startsWith("/")) {
        throw invalid(
          "path must be the absolute path of an image archive or rootfs tarball on the daemon's host",
        );
      }
      sendJson(res, 201, await engine.importImage(path, name ?? ""));
    },
  },
  {
    // The Docker API's build: the body is the context as a tar, the answer Docker's message stream.
    method: "POST",
    path: /^\/images\/build$/,
    handler: (engine, req, res, { query }) => buildImage(engine, req, res, query),
  },
  {
    // Empties the build cache (weft builder prune): what it held.
    method: "POST",
    path: /^\/build\/prune$/,
    handler: async (engine, _req, res) => {
      const pruned = (await engine.pruneBuildCache?.()) ?? { entries: [], bytes: 0 };
      sendJson(res, 200, { entries: pruned.entries.length, bytes: pruned.bytes });
    },
  },
  {
    method: "GET",
    path: /^\/system\/df$/,
    handler: async (engine, _req, res) => {
      const cache = engine.buildCacheUsage?.() ?? { entries: [], bytes: 0 };
      sendJson(res, 200, {
        ...diskUsageJson(await engine.diskUsage()),
        buildCache: { entries: cache.entries.length, bytes: cache.bytes },
      });
    },
  },
  {
    method: "GET",
    path: /^\/images\/save$/,
    handler: async (engine, _req, res, { query }) => {
      const names = query.getAll("names").filter((n) => n !== "");
      if (names.length === 0) throw invalid("names is required: ?names=shop:latest (repeatable)");
      await sendTar(res, engine.saveImages(names), {});
    },
  },
  {
    method: "GET",
    path: /^\/images\/json$/,
    handler: async (engine, _req, res) => sendJson(res, 200, engine.images()),
  },
  {
    method: "GET",
    path: /^\/images\/(.+)\/json$/,
    handler: async (engine, _req, res, { ref }) => sendJson(res, 200, engine.image(ref)),
  },
  {
    method: "POST",
    path: /^\/images\/(.+)\/tag$/,
    handler: async (engine, _req, res, { ref, query }) => {
      const target = query.get("name");
      if (!target) throw invalid("name is required: the new name, e.g. ?name=shop:v2");
      sendJson(res, 201, await engine.tagImage(ref, target));
    },
  },
  {
    method: "DELETE",
    path: /^\/images\/(.+)$/,
    handler: async (engine, _req, res, { ref }) => {
      await engine.removeImage(ref);
      res.writeHead(204).end();
    },
  },
];

/** Dispatches one request; throws for the server to turn into an error response. */
export async function route(engine: EngineApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://weft");
  if (!url.pathname.startsWith(`${WEFT_API_PREFIX}/`)) {
    throw Object.assign(
      new RuntimeError(
        "INVALID_ARGUMENT",
        `no such API path ${req.method} ${url.pathname}; the Weft API is under ${WEFT_API_PREFIX}/`,
      ),
      { code: "PATH_NOT_FOUND" },
    );
  }
  const path = url.pathname.slice(WEFT_API_PREFIX.length);
  let pathMatched = false;
  for (const r of routes) {
    const m = r.path.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== req.method) continue;
    await r.handler(engine, req, res, { query: url.searchParams, ref: decodeURIComponent(m[1] ?? "") });
    return;
  }
  if (pathMatched) {
    throw Object.assign(new RuntimeError("INVALID_ARGUMENT", `${req.method} is not allowed on ${path}`), {
      status: 405,
    });
  }
  throw Object.assign(new RuntimeError("INVALID_ARGUMENT", `no such API path ${req.method} ${path}`), {
    code: "PATH_NOT_FOUND",
  });
}

/** POST /containers/{ref}/commit: {name, changes?: string[], comment?, author?, pause?: boolean}. */
function commitBody(body: unknown): CommitOptions & { name: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  const text = (field: string): string | undefined => {
    const v = b[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw new RuntimeError("INVALID_ARGUMENT", `${field} must be a string`);
    return v;
  };
  const name = text("name");
  if (!name)
    throw new RuntimeError("INVALID_ARGUMENT", "name is required: the image to make, e.g. shop:debug");
  const changes = b.changes ?? [];
  if (!Array.isArray(changes) || !changes.every((c) => typeof c === "string"))
    throw new RuntimeError("INVALID_ARGUMENT", 'changes must be a list of strings such as "CMD ["sh"]"');
  if (b.pause !== undefined && typeof b.pause !== "boolean")
    throw new RuntimeError("INVALID_ARGUMENT", "pause must be true or false");
  return {
    name,
    changes,
    comment: text("comment"),
    author: text("author"),
    pause: b.pause as boolean | undefined,
  };
}

/** GET /system/df: the usage with each object named, not embedded whole. */
function diskUsageJson(du: DiskUsage) {
  return {
    layersBytes: du.layersBytes,
    images: du.images.map((i) => ({
      id: i.image.id,
      names: i.names,
      bytes: i.image.sizeBytes,
      sharedBytes: i.sharedBytes,
      containers: i.containers,
    })),
    containers: du.containers.map((c) => ({
      id: c.state.id,
      name: c.state.name,
      image: c.state.image,
      status: c.state.status,
      rwBytes: c.rwBytes,
      rootBytes: c.rootBytes,
    })),
    volumes: du.volumes.map((v) => ({ name: v.volume.name, bytes: v.bytes, refs: v.refs })),
  };
}
