// Container endpoints that answer with one JSON body or none: create, start, stop, kill, restart,
// wait, remove, list, inspect. Docker's status codes: 304 when start/stop had nothing to do, 409 for
// conflicts, 404 "No such container: x".
import type { IncomingMessage, ServerResponse } from "node:http";
import { filtersNeedAll, matchesFilters, unknownFilterKey } from "../../engine/container-filter";
import { validateRunSpec } from "../../engine/validate";
import { readJson } from "../http";
import { containerJson, containerSummary } from "./container-json";
import { linkedContainers, weftBodyOf } from "./create-body";
import type { DockerEngine, WaitCondition } from "./engine";
import { imageForCreate } from "./images";
import { serviceOf, sharedServiceWarning, withExposedPorts } from "./mesh-service";
import { networkView } from "./networks";
import {
  badRequest,
  dockerError,
  flag,
  parseFilters,
  pruneFilters,
  sendDockerJson,
  sendEmpty,
  startStream,
} from "./wire";

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export async function createContainer(
  engine: DockerEngine,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
) {
  const name = query.get("name") ?? "";
  if (name !== "" && !NAME_RE.test(name)) {
    throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const input = await readJson(req);
  const body = weftBodyOf(input, name.replace(/^\//, ""));
  const links = linkedContainers(input);
  for (const l of links) {
    // Docker's words for a link to a container that does not exist.
    await engine.inspect(l).catch(() => {
      throw badRequest(`could not get container for ${l}`);
    });
  }
  if (body.interactive === true && engine.attachStdin !== true) {
    throw badRequest(
      "OpenStdin (-i) is not supported yet on this host: weft passes input to a container's main process with socat; install the socat package on the daemon's host, or run with -d (and -t if it needs a terminal) and use 'docker exec -it'",
    );
  }
  const image = String(body.image ?? "");
  if (image === "") throw badRequest("Image is required: the name of a loaded image");
  // A name stays as typed, as Docker keeps it ("busybox" is listed as "busybox", not
  // "busybox:latest"); an image id is replaced with the image's name, which the engine looks up.
  const found = imageForCreate(engine, image);
  body.image = found.ref;
  const spec = validateRunSpec(body);
  const state = await engine.create({
    ...spec,
    ports: withExposedPorts(spec, found.image.config.exposedPorts),
  });
  const warnings = [serviceOf(state.labels).warning ?? "", await sharedServiceWarning(engine, state)].filter(
    Boolean,
  );
  if (links.length > 0) {
    warnings.push(
      `links (${links.join(", ")}) add nothing in weft: containers reach each other by mesh service name`,
    );
  }
  sendDockerJson(res, 201, { Id: state.id, Warnings: warnings });
}

export async function listContainers(engine: DockerEngine, query: URLSearchParams) {
  const filters = parseFilters(query);
  const unknown = unknownFilterKey(filters);
  if (unknown !== undefined) throw badRequest(`invalid filter '${unknown}'`);
  const all = flag(query, "all") || filtersNeedAll(filters);
  let list = (await engine.list(all)).filter((s) => matchesFilters(filters, s));
  const limit = Number(query.get("limit") ?? "-1");
  if (limit > 0) list = list.slice(0, limit);
  const now = new Date();
  const view = networkView(engine);
  return list.map((s) => containerSummary(s, now, view));
}

export async function inspectContainer(engine: DockerEngine, ref: string) {
  return containerJson(await engine.inspect(ref), networkView(engine));
}

export async function startContainer(engine: DockerEngine, res: ServerResponse, ref: string) {
  const s = await engine.inspect(ref);
  if (s.status === "running") return sendEmpty(res, 304);
  await engine.start(s.id);
  sendEmpty(res, 204);
}

function timeoutOf(query: URLSearchParams): number | undefined {
  const t = query.get("t") ?? query.get("timeout");
  if (t === null || t === "") return undefined;
  if (!/^-?\d+$/.test(t)) throw badRequest(`t must be a whole number of seconds, got "${t}"`);
  // Docker's -1: wait for ever; the engine's longest wait is what we can offer.
  return Number(t) < 0 ? 24 * 3600 : Number(t);
}

export async function stopContainer(
  engine: DockerEngine,
  res: ServerResponse,
  ref: string,
  q: URLSearchParams,
) {
  if (q.get("signal"))
    throw badRequest("signal is not supported on stop; create the container with --stop-signal");
  const s = await engine.inspect(ref);
  if (s.status !== "running" && s.status !== "restarting") return sendEmpty(res, 304);
  await engine.stop(s.id, timeoutOf(q) ?? s.stopTimeoutS);
  sendEmpty(res, 204);
}

export async function restartContainer(
  engine: DockerEngine,
  res: ServerResponse,
  ref: string,
  q: URLSearchParams,
) {
  if (q.get("signal"))
    throw badRequest("signal is not supported on restart; create the container with --stop-signal");
  const s = await engine.inspect(ref);
  await engine.restart(s.id, timeoutOf(q) ?? s.stopTimeoutS);
  sendEmpty(res, 204);
}

/** POST /containers/{id}/pause and /unpause, with Docker's 409s. */
export async function pauseContainer(engine: DockerEngine, res: ServerResponse, ref: string, pause: boolean) {
  const s = await engine.inspect(ref);
  if (s.status !== "running") throw dockerError(409, `Container ${s.id} is not running`);
  if (pause && s.paused) throw dockerError(409, `Container ${s.id} is already paused`);
  if (!pause && !s.paused) throw dockerError(409, `Container ${s.id} is not paused`);
  await (pause ? engine.pause(ref) : engine.unpause(ref));
  sendEmpty(res, 204);
}

export async function killContainer(
  engine: DockerEngine,
  res: ServerResponse,
  ref: string,
  q: URLSearchParams,
) {
  const s = await engine.inspect(ref);
  if (s.status !== "running") throw dockerError(409, `Container ${s.id} is not running`);
  const raw = q.get("signal") || "SIGKILL";
  const signal = /^\d+$/.test(raw)
    ? raw
    : raw.toUpperCase().startsWith("SIG")
      ? raw.toUpperCase()
      : `SIG${raw.toUpperCase()}`;
  await engine.kill(s.id, signal);
  sendEmpty(res, 204);
}

const CONDITIONS = new Set<WaitCondition>(["not-running", "next-exit", "removed"]);

/** POST /containers/{id}/wait: the headers go out at once (docker run starts after them), the body at exit. */
export async function waitContainer(
  engine: DockerEngine,
  res: ServerResponse,
  ref: string,
  q: URLSearchParams,
) {
  const condition = (q.get("condition") || "not-running") as WaitCondition;
  if (!CONDITIONS.has(condition)) {
    throw badRequest(`condition must be not-running, next-exit or removed, got "${condition}"`);
  }
  const s = await engine.inspect(ref);
  const done = engine.wait(s.id, condition);
  startStream(res, "application/json");
  try {
    const r = await done;
    res.end(JSON.stringify({ StatusCode: r.exitCode, Error: null }));
  } catch (err) {
    res.end(JSON.stringify({ StatusCode: -1, Error: { Message: (err as Error).message } }));
  }
}

export async function removeContainer(
  engine: DockerEngine,
  res: ServerResponse,
  ref: string,
  q: URLSearchParams,
) {
  if (flag(q, "link")) throw badRequest("links are not supported by weft");
  const s = await engine.inspect(ref);
  if ((s.status === "running" || s.status === "restarting") && !flag(q, "force")) {
    throw dockerError(
      409,
      `cannot remove container "/${s.name}": container is running: stop the container before removing or force remove`,
    );
  }
  // `v` (anonymous volumes) has nothing to do: weft makes no anonymous volumes.
  await engine.remove(s.id, flag(q, "force"));
  sendEmpty(res, 204);
}

/** POST /containers/prune: removes every container that is not running (filters are not supported). */
export async function pruneContainers(engine: DockerEngine, query: URLSearchParams) {
  // docker container prune --filter label=...; Docker's other prune filter, until=, is not kept.
  const labels = pruneFilters(query, "container", "label");
  const filters = new Map<string, string[]>(labels.length > 0 ? [["label", labels]] : []);
  const deleted: string[] = [];
  for (const s of await engine.list(true)) {
    if (s.status !== "exited" && s.status !== "created") continue;
    if (!matchesFilters(filters, s)) continue;
    await engine.remove(s.id, false);
    deleted.push(s.id);
  }
  return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
}
