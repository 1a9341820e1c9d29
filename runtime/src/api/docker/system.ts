// System endpoints: /_ping (API-version negotiation: the CLI reads Api-Version and uses the lower of
// its own and ours), /version, /info and the /events stream.
import type { IncomingMessage, ServerResponse } from "node:http";
import { cpus, hostname, release, totalmem } from "node:os";
import { detectCgroupLayout } from "../../cgroups/index";
import { EVENT_FILTER_KEYS, eventMatcher } from "../../engine/events";
import type { EngineEvent } from "../../engine/types";
import { containerSummary } from "./container-json";
import type { DockerEngine } from "./engine";
import {
  badRequest,
  clientGone,
  dockerError,
  imageId,
  MAX_API_VERSION,
  MIN_API_VERSION,
  parseFilters,
  startStream,
  unixTime,
} from "./wire";

const WEFT_VERSION = "0.1.0";

export function ping(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    "Api-Version": MAX_API_VERSION,
    "Docker-Experimental": "false",
    OSType: "linux",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    Pragma: "no-cache",
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": req.method === "HEAD" ? 0 : 2,
  });
  res.end(req.method === "HEAD" ? undefined : "OK");
}

const arch = process.arch === "x64" ? "amd64" : process.arch;

export function version() {
  const details = {
    ApiVersion: MAX_API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: "",
    GoVersion: `node ${process.version}`,
    Os: "linux",
    Arch: arch,
    KernelVersion: release(),
    BuildTime: "",
  };
  return {
    Platform: { Name: "Weft" },
    Components: [{ Name: "Engine", Version: WEFT_VERSION, Details: details }],
    Version: WEFT_VERSION,
    ...details,
  };
}

/** docker info's Cgroup Version: "1" on a host with v1 controllers (a hybrid one too, as Docker says), else "2". */
export function cgroupVersion(mountinfo?: string): string {
  try {
    return detectCgroupLayout(mountinfo).mode === "v1" ? "1" : "2";
  } catch {
    return ""; // no cgroup file system mounted: docker info leaves it out
  }
}

export async function info(engine: DockerEngine) {
  const containers = await engine.list(true);
  const running = containers.filter((c) => c.status === "running").length;
  return {
    ID: hostname(),
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: 0,
    ContainersStopped: containers.length - running,
    Images: new Set(engine.images().map((i) => i.id)).size,
    Driver: "overlay",
    DriverStatus: [],
    Plugins: { Volume: ["local"], Network: ["weft"], Authorization: null, Log: ["k8s-file"] },
    MemoryLimit: true,
    SwapLimit: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: false,
    PidsLimit: true,
    OomKillDisable: false,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: "k8s-file",
    CgroupDriver: "cgroupfs",
    CgroupVersion: cgroupVersion(),
    NEventsListener: 0,
    KernelVersion: release(),
    OperatingSystem: "Weft",
    OSVersion: WEFT_VERSION,
    OSType: "linux",
    Architecture: process.arch === "x64" ? "x86_64" : process.arch,
    IndexServerAddress: "",
    RegistryConfig: null,
    NCPU: cpus().length,
    MemTotal: totalmem(),
    DockerRootDir: "",
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: WEFT_VERSION,
    Runtimes: { runc: { path: "runc" } },
    DefaultRuntime: "runc",
    Swarm: {
      NodeID: "",
      NodeAddr: "",
      LocalNodeState: "inactive",
      ControlAvailable: false,
      Error: "",
      RemoteManagers: null,
    },
    LiveRestoreEnabled: true,
    Isolation: "",
    InitBinary: "",
    SecurityOptions: ["name=seccomp,profile=default"],
    Warnings: [],
  };
}

/** Docker's events message (moby api/types/events.Message, with the legacy status/id/from). */
export function eventMessage(e: EngineEvent) {
  return {
    status: e.action,
    id: e.id,
    from: e.attributes.image ?? "",
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.id, Attributes: e.attributes },
    scope: "local",
    time: Math.floor(e.timeNano / 1e9),
    timeNano: e.timeNano,
  };
}

/** A predicate for /events filters (engine/events.ts); an unknown key is a 400, as Docker's. */
export function eventFilter(filters: Map<string, string[]>): (e: EngineEvent) => boolean {
  for (const key of filters.keys()) {
    if (!EVENT_FILTER_KEYS.includes(key)) throw badRequest(`invalid filter '${key}'`);
  }
  return eventMatcher(filters);
}

/** GET /events: the kept events since `since` (if given), then live ones until `until` or disconnect. */
export async function streamEvents(
  engine: DockerEngine,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const since = unixTime(query, "since");
  const until = unixTime(query, "until", true);
  const keep = eventFilter(parseFilters(query));
  startStream(res, "application/json");
  const write = (e: EngineEvent) => {
    if (keep(e)) res.write(`${JSON.stringify(eventMessage(e))}\n`);
  };
  if (since) for (const e of engine.events(since, until)) write(e);
  if (until && until.getTime() <= Date.now()) {
    res.end();
    return;
  }
  const unsubscribe = engine.subscribe((e) => {
    if (until && e.timeNano / 1e6 > until.getTime()) return;
    write(e);
  });
  const timer = until ? setTimeout(() => res.end(), until.getTime() - Date.now()) : undefined;
  await clientGone(req, res);
  if (timer) clearTimeout(timer);
  unsubscribe();
}

/**
 * GET /system/df (docker system df): what images (LayersSize; each image's Size, SharedSize and
 * Containers), containers (SizeRw, SizeRootFs) and volumes (UsageData) take on disk.
 */
export async function systemDf(engine: DockerEngine) {
  if (!engine.diskUsage) throw dockerError(501, "this engine cannot tell its disk usage");
  const du = await engine.diskUsage();
  const now = new Date();
  return {
    LayersSize: du.layersBytes,
    Images: du.images.map((i) => ({
      Id: imageId(i.image.id),
      ParentId: "",
      RepoTags: i.names,
      RepoDigests: [],
      Created: Math.floor(Date.parse(i.image.created) / 1000),
      Size: i.image.sizeBytes,
      SharedSize: i.sharedBytes,
      VirtualSize: i.image.sizeBytes,
      Labels: i.image.config.labels,
      Containers: i.containers,
    })),
    Containers: du.containers.map((c) => ({
      ...containerSummary(c.state, now),
      SizeRw: c.rwBytes,
      SizeRootFs: c.rootBytes,
    })),
    Volumes: du.volumes.map((v) => ({
      Name: v.volume.name,
      Driver: "local",
      Mountpoint: v.volume.mountpoint,
      CreatedAt: v.volume.created,
      Labels: {},
      Scope: "local",
      Options: {},
      UsageData: { Size: v.bytes, RefCount: v.refs },
    })),
    // Each cached step, with the bytes of the layer it added when only the cache keeps it.
    BuildCache: (engine.buildCacheUsage?.().entries ?? []).map((e) => ({
      ID: e.id.slice(0, 25),
      Type: "regular",
      Description: "weft build step",
      InUse: false,
      Shared: false,
      Size: e.bytes,
      CreatedAt: e.used,
      LastUsedAt: e.used,
      UsageCount: 1,
    })),
  };
}
