// Named volumes in Docker's shapes: `docker volume ls`, `create`, `inspect`, `rm` and `prune` (the
// local driver only; a volume is a folder under the daemon's state dir, as `weft volume` makes them).
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { VolumeInfo } from "../../volumes/index";
import { readJson } from "../http";
import type { DockerEngine } from "./engine";
import {
  badRequest,
  dockerError,
  parseFilters,
  pruneFilters,
  sendDockerJson,
  sendEmpty,
  versionBefore,
} from "./wire";

/** The engine's volumes; one without them (the unit tests' fake) has none. */
function all(engine: DockerEngine): Array<VolumeInfo & { usedBy: string[] }> {
  return engine.listVolumes?.() ?? [];
}

function volumeJson(v: VolumeInfo) {
  return {
    Name: v.name,
    Driver: "local",
    Mountpoint: v.mountpoint,
    CreatedAt: v.created,
    Labels: v.labels,
    Scope: "local",
    Options: {},
  };
}

function find(engine: DockerEngine, name: string): VolumeInfo & { usedBy: string[] } {
  // Not found, in the words `docker inspect NAME` looks for before it tries the next kind of object.
  const v = all(engine).find((x) => x.name === name);
  if (!v) throw dockerError(404, `get ${name}: no such volume`);
  return v;
}

/** GET /volumes (filters name, dangling, label=K or K=V and driver, as `docker volume ls -f` sends them). */
export function listVolumes(engine: DockerEngine, query: URLSearchParams) {
  const filters = parseFilters(query);
  for (const key of filters.keys()) {
    if (!["name", "dangling", "label", "driver"].includes(key))
      throw badRequest(`invalid filter '${key}': docker volume ls takes name, dangling, label and driver`);
  }
  const names = filters.get("name") ?? [];
  const dangling = filters.get("dangling") ?? [];
  const drivers = filters.get("driver") ?? [];
  const labels = (filters.get("label") ?? []).map((l) => {
    const eq = l.indexOf("=");
    return eq < 0 ? { key: l } : { key: l.slice(0, eq), value: l.slice(eq + 1) };
  });
  // Every weft volume is the local driver's.
  if (drivers.length > 0 && !drivers.includes("local")) return { Volumes: [], Warnings: [] };
  const list = all(engine)
    .filter((v) => names.length === 0 || names.some((n) => v.name.includes(n)))
    .filter((v) => dangling.length === 0 || dangling.includes(String(v.usedBy.length === 0)))
    .filter((v) =>
      labels.every(({ key, value }) => key in v.labels && (value === undefined || v.labels[key] === value)),
    );
  return { Volumes: list.map(volumeJson), Warnings: [] };
}

/** POST /volumes/create: {Name} (a random name when left out, as Docker's); the local driver only. */
export async function createVolume(engine: DockerEngine, req: IncomingMessage, res: ServerResponse) {
  const body = ((await readJson(req)) ?? {}) as { Name?: unknown; Driver?: unknown; Labels?: unknown };
  if (body.Driver !== undefined && body.Driver !== "" && body.Driver !== "local") {
    throw badRequest(
      `volume driver "${String(body.Driver)}" is not available: weft has only the local driver`,
    );
  }
  const name =
    typeof body.Name === "string" && body.Name !== "" ? body.Name : randomBytes(32).toString("hex");
  const labels = body.Labels ?? {};
  if (
    typeof labels !== "object" ||
    labels === null ||
    Array.isArray(labels) ||
    !Object.values(labels).every((v) => typeof v === "string")
  )
    throw badRequest("Labels must be an object of strings");
  if (!engine.createVolume) throw dockerError(501, "this engine makes no volumes");
  sendDockerJson(res, 201, volumeJson(engine.createVolume(name, labels as Record<string, string>)));
}

/** GET /volumes/{name}. */
export function inspectVolume(engine: DockerEngine, name: string) {
  return volumeJson(find(engine, name));
}

/** DELETE /volumes/{name}: 409 while a container (running or not) references it. */
export function removeVolume(engine: DockerEngine, res: ServerResponse, name: string): void {
  const v = find(engine, name);
  if (v.usedBy.length > 0) {
    throw dockerError(409, `remove ${name}: volume is in use - [${v.usedBy.join(", ")}]`);
  }
  engine.removeVolume?.(name);
  sendEmpty(res, 204);
}

/**
 * POST /volumes/prune: the volumes no container references. Since API 1.42 Docker removes only
 * anonymous volumes unless the filter says all=true (docker volume prune -a); before, every unused
 * one. Weft's volumes are all named, so the newer form without all=true removes none.
 */
export function pruneVolumes(engine: DockerEngine, query: URLSearchParams, version: string) {
  const all = pruneFilters(query, "volume", "all").includes("true") || versionBefore(version, "1.42");
  const deleted: string[] = [];
  if (all) {
    for (const v of engine.listVolumes?.() ?? []) {
      if (v.usedBy.length > 0) continue;
      engine.removeVolume?.(v.name);
      deleted.push(v.name);
    }
  }
  return { VolumesDeleted: deleted, SpaceReclaimed: 0 };
}
