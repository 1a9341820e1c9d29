// ContainerState in Docker's shapes: the `docker ps` summary and the `docker inspect` ContainerJSON
// (moby api/types/container). Fields Weft has no notion of get Docker's zero values, so templates
// like {{.State.Running}} and {{.NetworkSettings.IPAddress}} work unchanged.
import type { ContainerState, PublishedPort } from "../../engine/types";
import type { BridgeInfo } from "../../network/bridge";
import { DEFAULT_NETWORK, networksOf } from "../../network/named-networks";
import { dockerTime, imageId } from "./wire";

/** The network every container is on unless it names others, as `docker network ls` names it. */
export const NETWORK = DEFAULT_NETWORK;

/** What a container's network entries need of the networks: the bridge, and each network's id. */
export interface NetworkView {
  bridge?: BridgeInfo;
  /** Network name to id. */
  ids: ReadonlyMap<string, string>;
}

/** A container's prefix length: the bridge's, when the engine says (24 otherwise, as before it did). */
function prefixOf(net: BridgeInfo | undefined): number {
  return net?.prefixLength ?? 24;
}

/** go-units' HumanDuration, which `docker ps` uses for "Up 3 seconds". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 14) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 60) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** Docker's State.Status: a paused container is "paused" (and still Running). */
export function dockerStatus(s: ContainerState): string {
  return s.paused ? "paused" : s.status;
}

/** Docker's State.String(): "Up 3 seconds (healthy)", "Exited (0) 2 seconds ago", "Created". */
export function statusText(s: ContainerState, now: Date): string {
  const since = (iso: string | undefined) => humanDuration(now.getTime() - Date.parse(iso ?? s.created));
  if (s.status === "running" && s.paused) return `Up ${since(s.startedAt)} (Paused)`;
  if (s.status === "running") {
    const health = s.health
      ? s.health.status === "starting"
        ? " (health: starting)"
        : ` (${s.health.status})`
      : "";
    return `Up ${since(s.startedAt)}${health}`;
  }
  if (s.status === "restarting") return `Restarting (${s.exitCode ?? 0}) ${since(s.finishedAt)} ago`;
  if (s.status === "created") return "Created";
  return `Exited (${s.exitCode ?? 0}) ${since(s.finishedAt)} ago`;
}

function portKey(port: number): string {
  return `${port}/tcp`;
}

function summaryPorts(s: ContainerState) {
  // A mapping is listed while it is bound, as Docker's: not for a container created or stopped.
  const published = (s.status === "running" ? (s.publish ?? []) : []).map((p: PublishedPort) => ({
    IP: p.hostIp,
    PrivatePort: p.containerPort,
    PublicPort: p.hostPort,
    Type: p.protocol,
  }));
  const bare = s.ports
    .filter((p) => !published.some((q) => q.PrivatePort === p.port))
    .map((p) => ({ PrivatePort: p.port, Type: "tcp" }));
  return [...published, ...bare];
}

function mounts(s: ContainerState) {
  return [
    ...(s.mounts ?? []).map((m) => ({
      Type: m.type,
      ...(m.type === "volume" ? { Name: m.source, Driver: "local" } : {}),
      Source: m.source,
      Destination: m.destination,
      Mode: m.readonly ? "ro" : "",
      RW: !m.readonly,
      Propagation: m.type === "bind" ? "rprivate" : "",
    })),
    ...(s.tmpfs ?? []).map((t) => ({
      Type: "tmpfs",
      Source: "",
      Destination: t.destination,
      Mode: "",
      RW: true,
      Propagation: "",
    })),
  ];
}

// Every network entry has the container's one address on the bridge. The short id is among the
// aliases, as Docker's API before 1.45 put it there: docker-compose 1.x reads it to tell that a
// container is already connected, and disconnects and connects it again otherwise.
function networks(s: ContainerState, view: NetworkView | undefined) {
  const shortId = s.id.slice(0, 12);
  return Object.fromEntries(
    Object.entries(networksOf(s)).map(([name, { aliases }]) => [
      name,
      {
        IPAMConfig: null,
        Links: null,
        // A client may send the short id among its aliases (docker-compose connects with it).
        Aliases: [...new Set([...aliases, shortId])],
        DNSNames: [...new Set([s.name, shortId, ...aliases])],
        NetworkID: view?.ids.get(name) ?? name,
        EndpointID: s.hostVeth,
        Gateway: s.gateway,
        IPAddress: s.address,
        IPPrefixLen: prefixOf(view?.bridge),
        MacAddress: "",
      },
    ]),
  );
}

/** The network Docker names in HostConfig.NetworkMode: the first the container is on. */
function networkMode(s: ContainerState): string {
  return Object.keys(networksOf(s))[0] ?? NETWORK;
}

/** One entry of GET /containers/json. */
export function containerSummary(s: ContainerState, now: Date, view?: NetworkView) {
  return {
    Id: s.id,
    Names: [`/${s.name}`],
    Image: s.image,
    ImageID: imageId(s.imageId),
    Command: s.cmd.join(" "),
    Created: Math.floor(Date.parse(s.created) / 1000),
    Ports: summaryPorts(s),
    Labels: s.labels,
    State: dockerStatus(s),
    Status: statusText(s, now),
    HostConfig: { NetworkMode: networkMode(s) },
    NetworkSettings: { Networks: networks(s, view) },
    Mounts: mounts(s),
  };
}

function portMap(s: ContainerState): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const p of s.ports) out[portKey(p.port)] = null;
  for (const p of s.publish ?? []) {
    const list = out[portKey(p.containerPort)] ?? [];
    list.push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
    out[portKey(p.containerPort)] = list;
  }
  return out;
}

function healthcheck(s: ContainerState) {
  const h = s.healthcheck;
  if (!h) return undefined;
  const ms = 1_000_000;
  return {
    Test: h.exec ? ["CMD", ...h.exec] : ["CMD", "weft-http-get", `${h.http?.port}${h.http?.path ?? "/"}`],
    Interval: h.intervalMs * ms,
    Timeout: h.timeoutMs * ms,
    Retries: h.retries,
    StartPeriod: h.startPeriodMs * ms,
  };
}

/** HostConfig fields weft has no setting for, as Docker shows them for a container without one. */
const HOST_CONFIG_DEFAULTS = {
  ContainerIDFile: "",
  VolumeDriver: "",
  VolumesFrom: null,
  ConsoleSize: [0, 0],
  CgroupnsMode: "host",
  Dns: [],
  DnsOptions: [],
  DnsSearch: [],
  ExtraHosts: null,
  GroupAdd: null,
  IpcMode: "private",
  Cgroup: "",
  Links: null,
  OomScoreAdj: 0,
  PidMode: "",
  PublishAllPorts: false,
  UTSMode: "",
  ShmSize: 67108864,
  Runtime: "runc",
  Isolation: "",
  CgroupParent: "",
  BlkioWeight: 0,
  BlkioWeightDevice: [],
  BlkioDeviceReadBps: [],
  BlkioDeviceWriteBps: [],
  BlkioDeviceReadIOps: [],
  BlkioDeviceWriteIOps: [],
  CpuPeriod: 0,
  CpuQuota: 0,
  CpuRealtimePeriod: 0,
  CpuRealtimeRuntime: 0,
  CpusetCpus: "",
  CpusetMems: "",
  Devices: [],
  DeviceCgroupRules: null,
  DeviceRequests: null,
  MemoryReservation: 0,
  MemorySwap: 0,
  MemorySwappiness: null,
  OomKillDisable: false,
  Ulimits: null,
  CpuCount: 0,
  CpuPercent: 0,
  IOMaximumIOps: 0,
  IOMaximumBandwidth: 0,
} as const;

/** GET /containers/{id}/json. */
export function containerJson(s: ContainerState, view?: NetworkView) {
  const [path = "", ...args] = s.cmd;
  const exposed = Object.fromEntries(s.ports.map((p) => [portKey(p.port), {}]));
  const health = s.health && {
    Status: s.health.status,
    FailingStreak: s.health.failingStreak,
    Log: s.health.log.map((l) => ({ Start: l.start, End: l.end, ExitCode: l.exitCode, Output: l.output })),
  };
  return {
    Id: s.id,
    Created: s.created,
    Path: path,
    Args: args,
    State: {
      Status: dockerStatus(s),
      Running: s.status === "running",
      Paused: s.paused === true,
      Restarting: s.status === "restarting",
      OOMKilled: s.oomKilled ?? false,
      Dead: false,
      Pid: s.pid ?? 0,
      ExitCode: s.exitCode ?? 0,
      Error: s.error ?? "",
      StartedAt: dockerTime(s.startedAt),
      FinishedAt: dockerTime(s.finishedAt),
      ...(health ? { Health: health } : {}),
    },
    Image: imageId(s.imageId),
    ResolvConfPath: "",
    HostnamePath: "",
    HostsPath: "",
    LogPath: "",
    Name: `/${s.name}`,
    RestartCount: s.restartCount ?? 0,
    Driver: "overlay",
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: null,
    HostConfig: {
      Binds: (s.mounts ?? []).map((m) => `${m.source}:${m.destination}${m.readonly ? ":ro" : ""}`),
      NetworkMode: networkMode(s),
      PortBindings: Object.fromEntries(Object.entries(portMap(s)).filter(([, v]) => v !== null)),
      RestartPolicy: {
        Name: s.restartPolicy?.name ?? "no",
        MaximumRetryCount: s.restartPolicy?.maxRetries ?? 0,
      },
      AutoRemove: s.autoRemove ?? false,
      CapAdd: null,
      CapDrop: null,
      Privileged: s.privileged ?? false,
      ReadonlyRootfs: s.readOnly ?? false,
      SecurityOpt: s.seccomp && s.seccomp !== "default" ? [`seccomp=${s.seccomp}`] : null,
      Tmpfs: Object.fromEntries(
        (s.tmpfs ?? []).map((t) => [
          t.destination,
          [t.sizeBytes ? `size=${t.sizeBytes}` : "", `mode=${t.mode.toString(8)}`].filter(Boolean).join(","),
        ]),
      ),
      Memory: s.memoryBytes ?? 0,
      NanoCpus: s.cpus ? Math.round(s.cpus * 1e9) : 0,
      CpuShares: s.cpuShares ?? 0,
      PidsLimit: s.pids ?? null,
      LogConfig: { Type: "k8s-file", Config: {} },
      UsernsMode: s.userns === "auto" ? "auto" : "",
      // The rest of Docker's HostConfig, at what weft does (scripts read them with inspect -f, and a
      // template on a missing key fails): no swap limit, DNS from the mesh, no devices or ulimits.
      ...HOST_CONFIG_DEFAULTS,
    },
    GraphDriver: { Name: "overlay", Data: null },
    Mounts: mounts(s),
    Config: {
      Hostname: s.hostname ?? s.name,
      Domainname: "",
      User: `${s.uid}:${s.gid}`,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ExposedPorts: exposed,
      Tty: s.tty ?? false,
      OpenStdin: s.interactive ?? false,
      StdinOnce: s.stdinOnce ?? false,
      Env: s.env,
      Cmd: s.cmd,
      ...(s.healthcheck ? { Healthcheck: healthcheck(s) } : {}),
      Image: s.image,
      Volumes: null,
      WorkingDir: s.workdir ?? "/",
      Entrypoint: null,
      Labels: s.labels,
      StopSignal: s.stopSignal ?? "SIGTERM",
      StopTimeout: s.stopTimeoutS ?? 10,
    },
    NetworkSettings: {
      Bridge: "",
      SandboxID: s.netns,
      SandboxKey: s.netns ? `/var/run/netns/${s.netns}` : "",
      Ports: portMap(s),
      IPAddress: s.address,
      IPPrefixLen: prefixOf(view?.bridge),
      Gateway: s.gateway,
      MacAddress: "",
      Networks: networks(s, view),
    },
  };
}
