// Docker's container create body (Config + HostConfig) mapped onto the Weft API's run body, which
// validateRunSpec then checks as for `weft run`. What Weft cannot do is refused with a 400 naming the
// Docker field, instead of being silently ignored. Weft specifics come from labels: `weft.service`,
// `weft.sidecar=false`, `weft.port=8080/http[,9090/grpc]`; docker-compose's service label names the
// mesh service when weft.service does not.
import type { ContainerNetworks } from "../../engine/types";
import { DEFAULT_NETWORK_ALIASES } from "../../network/named-networks";
import { serviceOf } from "./mesh-service";
import { badRequest, dockerEnv } from "./wire";

type Obj = Record<string, unknown>;

function obj(v: unknown, field: string): Obj {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw badRequest(`${field} must be an object`);
  return v as Obj;
}

/**
 * A map of strings (Labels, Tmpfs), as Docker's Go types declare them: a number in one is a 400, and
 * null is "" (what Go's JSON decoding leaves in a string it is given null for).
 */
export function strMap(v: unknown, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v, field))) {
    if (x !== null && typeof x !== "string")
      throw badRequest(`${field}["${k}"] must be a string, got ${JSON.stringify(x)}`);
    out[k] = x ?? "";
  }
  return out;
}

function strList(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw badRequest(`${field} must be a list of strings`);
  }
  return v as string[];
}

function num(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== "number" || !Number.isFinite(v)) throw badRequest(`${field} must be a number`);
  return v;
}

function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw badRequest(`${field} must be a string`);
  return v;
}

/** HostConfig.ConsoleSize [rows, cols] (the CLI's terminal at create, API 1.42+); [0, 0] is none. */
function consoleSizeOf(v: unknown): { rows: number; cols: number } | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => typeof n === "number" && n >= 0)) {
    throw badRequest("HostConfig.ConsoleSize must be [height, width]");
  }
  const [rows, cols] = (v as number[]).map((n) => Math.min(1000, Math.floor(n)));
  return rows && cols ? { rows, cols } : undefined;
}

/** True when the CLI sent something other than its zero value. */
function isSet(v: unknown): boolean {
  // -1 is Docker's "unset" for MemorySwappiness and friends.
  if (v === undefined || v === null || v === false || v === 0 || v === -1 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v as object).length > 0;
  return true;
}

/** HostConfig fields Weft has no equivalent for, with what to do instead. */
const UNSUPPORTED_HOST: Record<string, string> = {
  VolumesFrom: "mount the same named volume with -v NAME:/path instead",
  Dns: "containers use the bridge's resolver",
  DnsSearch: "containers use the bridge's resolver",
  DnsOptions: "containers use the bridge's resolver",
  ExtraHosts: "containers use the bridge's resolver",
  GroupAdd: "use --user UID:GID",
  PidMode: "each container has its own pid namespace",
  UTSMode: "each container has its own uts namespace",
  Devices: "use --privileged for every device",
  DeviceRequests: "GPUs are not supported",
  DeviceCgroupRules: "use --privileged for every device",
  PublishAllPorts: "publish each port with -p HOSTPORT:PORT",
  MemoryReservation: "use --memory",
  MemorySwappiness: "swap is not configurable",
  KernelMemory: "use --memory",
  CpusetCpus: "use --cpus or --cpu-shares",
  CpusetMems: "use --cpus or --cpu-shares",
  BlkioWeight: "block I/O limits are not supported",
  BlkioWeightDevice: "block I/O limits are not supported",
  BlkioDeviceReadBps: "block I/O limits are not supported",
  BlkioDeviceWriteBps: "block I/O limits are not supported",
  BlkioDeviceReadIOps: "block I/O limits are not supported",
  BlkioDeviceWriteIOps: "block I/O limits are not supported",
  Ulimits: "ulimits are not configurable",
  Init: "run your own init as the command",
  Runtime: "weft always uses runc",
  CgroupParent: "the daemon's --cgroup-parent decides",
  VolumeDriver: "only local volumes exist",
  Sysctls: "sysctls are not configurable",
  StorageOpt: "storage options are not configurable",
  OomScoreAdj: "the OOM score is not configurable",
  OomKillDisable: "the OOM killer cannot be disabled",
  ShmSize: "mount a tmpfs on /dev/shm with --tmpfs /dev/shm:size=N",
  Isolation: "only the default isolation exists",
};

/** Values of unsupported fields that are weft's own behaviour: /dev/shm is 64 MiB, runc runs containers. */
const WHAT_WEFT_DOES: Record<string, unknown> = { ShmSize: 67108864, Runtime: "runc" };

const UNSUPPORTED_CONFIG: Record<string, string> = {
  Domainname: "set the full name with --hostname",
  MacAddress: "MAC addresses are assigned by the bridge",
  NetworkDisabled: "every container is on the mesh network",
};

/** Docker's [IP:]HOSTPORT:PORT bindings as Weft's publish strings. */
function publishOf(portBindings: Obj): string[] {
  const out: string[] = [];
  for (const [key, bindings] of Object.entries(portBindings)) {
    const [port, proto = "tcp"] = key.split("/");
    if (proto !== "tcp")
      throw badRequest(`HostConfig.PortBindings "${key}": only tcp ports can be published`);
    for (const b of Array.isArray(bindings) ? bindings : []) {
      const o = obj(b, `HostConfig.PortBindings["${key}"]`);
      const ip = str(o.HostIp, "HostIp");
      const hostPort = str(o.HostPort, "HostPort") || "0";
      if (hostPort.includes("-")) {
        throw badRequest(`HostConfig.PortBindings "${key}": host port ranges are not supported`);
      }
      out.push(`${ip ? `${ip}:` : ""}${hostPort}:${port}`);
    }
  }
  return out;
}

/** ExposedPorts ({"8080/tcp": {}}) and `weft.port` labels as the sidecar's ports. */
function portsOf(exposed: Obj, labels: Record<string, string>): string[] {
  const ports = new Map<string, string>();
  for (const key of Object.keys(exposed)) {
    const [port, proto = "tcp"] = key.split("/");
    if (proto !== "tcp") throw badRequest(`ExposedPorts "${key}": only tcp ports are supported`);
    ports.set(port ?? "", port ?? "");
  }
  const declared = labels["weft.port"];
  for (const p of declared ? declared.split(",") : []) {
    const spec = p.trim();
    ports.set(spec.split("/")[0] ?? spec, spec);
  }
  return [...ports.values()];
}

function restartOf(policy: Obj): { name: string; maxRetries: number } | undefined {
  const name = str(policy.Name, "HostConfig.RestartPolicy.Name");
  if (name === "") return undefined;
  const maxRetries = num(policy.MaximumRetryCount, "HostConfig.RestartPolicy.MaximumRetryCount");
  return { name, maxRetries };
}

function healthcheckOf(h: Obj): Obj | undefined {
  const test = strList(h.Test, "Healthcheck.Test");
  if (!test || test.length === 0) return undefined;
  if (test[0] === "NONE") return undefined;
  let exec: string[];
  if (test[0] === "CMD-SHELL") exec = ["/bin/sh", "-c", test.slice(1).join(" ")];
  else if (test[0] === "CMD") exec = test.slice(1);
  else throw badRequest(`Healthcheck.Test must start with CMD, CMD-SHELL or NONE, got "${test[0]}"`);
  const ms = (v: unknown, field: string) => {
    const ns = num(v, `Healthcheck.${field}`);
    return ns > 0 ? Math.round(ns / 1_000_000) : undefined;
  };
  const out: Obj = { exec };
  const interval = ms(h.Interval, "Interval");
  const timeout = ms(h.Timeout, "Timeout");
  const start = ms(h.StartPeriod, "StartPeriod");
  const retries = num(h.Retries, "Healthcheck.Retries");
  if (interval !== undefined) out.intervalMs = interval;
  if (timeout !== undefined) out.timeoutMs = timeout;
  if (start !== undefined) out.startPeriodMs = start;
  if (retries > 0) out.retries = retries;
  return out;
}

/** HostConfig.Mounts: bind and volume become -v strings, tmpfs becomes a tmpfs entry. */
function mountsOf(mounts: unknown[]): { volumes: string[]; tmpfs: Obj[] } {
  const volumes: string[] = [];
  const tmpfs: Obj[] = [];
  mounts.forEach((m, i) => {
    const o = obj(m, `HostConfig.Mounts[${i}]`);
    const type = str(o.Type, `HostConfig.Mounts[${i}].Type`);
    const target = str(o.Target, `HostConfig.Mounts[${i}].Target`);
    const source = str(o.Source, `HostConfig.Mounts[${i}].Source`);
    if (type === "bind" || type === "volume") {
      if (source === "") {
        throw badRequest(
          `HostConfig.Mounts[${i}]: a ${type} mount needs a source (anonymous volumes are not supported)`,
        );
      }
      volumes.push(`${source}:${target}${o.ReadOnly === true ? ":ro" : ""}`);
    } else if (type === "tmpfs") {
      const opts = obj(o.TmpfsOptions, `HostConfig.Mounts[${i}].TmpfsOptions`);
      const size = num(opts.SizeBytes, "TmpfsOptions.SizeBytes");
      const mode = num(opts.Mode, "TmpfsOptions.Mode");
      tmpfs.push({ destination: target, ...(size > 0 ? { sizeBytes: size } : {}), mode: mode || 0o1777 });
    } else {
      throw badRequest(`HostConfig.Mounts[${i}].Type "${type}" is not supported; use bind, volume or tmpfs`);
    }
  });
  return { volumes, tmpfs };
}

/** The CPU limit from NanoCpus, or CpuQuota/CpuPeriod (Docker's --cpu-quota, --cpu-period). */
function cpusOf(host: Obj): number | undefined {
  const nano = num(host.NanoCpus, "HostConfig.NanoCpus");
  const quota = num(host.CpuQuota, "HostConfig.CpuQuota");
  if (nano > 0 && quota > 0)
    throw badRequest("HostConfig.NanoCpus and HostConfig.CpuQuota are both set; use one");
  if (nano > 0) return nano / 1e9;
  if (quota > 0) return quota / (num(host.CpuPeriod, "HostConfig.CpuPeriod") || 100_000);
  return undefined;
}

/**
 * The named networks a create request puts the container on: HostConfig.NetworkMode's, and every
 * network of NetworkingConfig.EndpointsConfig (API 1.44 takes several), each with its Aliases.
 * Undefined for the default network. Whether they exist is the engine's to check.
 */
function requestedNetworks(host: Obj, networking: Obj): ContainerNetworks | undefined {
  const mode = str(host.NetworkMode, "HostConfig.NetworkMode");
  if (mode === "host" || mode === "none" || mode.startsWith("container:")) {
    throw badRequest(
      `HostConfig.NetworkMode "${mode}" is not supported: every weft container has a network namespace of its own, in the mesh`,
    );
  }
  const endpoints = obj(networking.EndpointsConfig, "NetworkingConfig.EndpointsConfig");
  const names = [...new Set([mode, ...Object.keys(endpoints)])].filter(
    (n) => !DEFAULT_NETWORK_ALIASES.includes(n),
  );
  if (names.length === 0) return undefined;
  return Object.fromEntries(
    names.map((n) => {
      const endpoint = obj(endpoints[n], `NetworkingConfig.EndpointsConfig.${n}`);
      return [
        n,
        { aliases: strList(endpoint.Aliases, `NetworkingConfig.EndpointsConfig.${n}.Aliases`) ?? [] },
      ];
    }),
  );
}

/**
 * The containers HostConfig.Links names ("container[:alias]"). Weft keeps no links: a container
 * reaches another by its mesh service name, as on a Docker network; docker-compose's `run` links its
 * one-off container to the service's own, which are found by that name already.
 */
export function linkedContainers(input: unknown): string[] {
  const links = strList(obj(obj(input, "body").HostConfig, "HostConfig").Links, "HostConfig.Links") ?? [];
  return [...new Set(links.map((l) => l.replace(/^\//, "").split(":")[0] ?? l))];
}

/**
 * Config.Volumes lists mount points; one that no bind or mount covers is an anonymous volume, which
 * weft does not make. docker-compose lists its named volumes' mount points there beside the binds.
 */
function checkVolumes(body: Obj, host: Obj): void {
  const binds = strList(host.Binds, "HostConfig.Binds") ?? [];
  const mounts = Array.isArray(host.Mounts) ? (host.Mounts as Obj[]) : [];
  const covered = new Set([
    ...binds.map((b) => b.split(":")[1]),
    ...mounts.map((m) => (m && typeof m === "object" ? m.Target : undefined)),
  ]);
  const anonymous = Object.keys(obj(body.Volumes, "Volumes")).filter((d) => !covered.has(d));
  if (anonymous.length > 0) {
    throw badRequest(
      `Volumes is not supported by weft: anonymous volumes (${anonymous.join(", ")}) are not made; use -v NAME:${anonymous[0]} with a named volume`,
    );
  }
}

/** The Weft API run body for a Docker create request (`name` from the query). */
export function weftBodyOf(input: unknown, name: string | undefined): Obj {
  const body = obj(input, "body");
  const host = obj(body.HostConfig, "HostConfig");
  checkVolumes(body, host);
  for (const [field, hint] of Object.entries(UNSUPPORTED_CONFIG)) {
    if (isSet(body[field])) throw badRequest(`${field} is not supported by weft: ${hint}`);
  }
  for (const [field, hint] of Object.entries(UNSUPPORTED_HOST)) {
    // What weft does anyway (inspect shows it so; a client may send back what it read) is taken.
    if (host[field] === WHAT_WEFT_DOES[field]) continue;
    if (isSet(host[field])) throw badRequest(`HostConfig.${field} is not supported by weft: ${hint}`);
  }
  const networks = requestedNetworks(host, obj(body.NetworkingConfig, "NetworkingConfig"));
  for (const ns of ["IpcMode", "CgroupnsMode"] as const) {
    const v = str(host[ns], `HostConfig.${ns}`);
    if (!["", "private", "shareable", ...(ns === "CgroupnsMode" ? ["host"] : [])].includes(v))
      throw badRequest(`HostConfig.${ns} "${v}" is not supported`);
  }
  const logType = str(obj(host.LogConfig, "HostConfig.LogConfig").Type, "HostConfig.LogConfig.Type");
  if (!["", "json-file", "k8s-file", "local"].includes(logType)) {
    throw badRequest(
      `HostConfig.LogConfig.Type "${logType}" is not supported: weft keeps logs in a file per container`,
    );
  }
  const swap = num(host.MemorySwap, "HostConfig.MemorySwap");
  const memory = num(host.Memory, "HostConfig.Memory");
  if (swap > 0 && swap !== memory)
    throw badRequest("HostConfig.MemorySwap is not supported: swap is not configurable");
  const usernsMode = str(host.UsernsMode, "HostConfig.UsernsMode");
  if (!["", "host", "auto"].includes(usernsMode)) {
    throw badRequest(`HostConfig.UsernsMode "${usernsMode}" is not supported; use "host" or "auto"`);
  }

  const labels = strMap(body.Labels, "Labels");
  const sidecarLabel = labels["weft.sidecar"];
  if (sidecarLabel !== undefined && sidecarLabel !== "true" && sidecarLabel !== "false") {
    throw badRequest(`label weft.sidecar must be "true" or "false", got "${sidecarLabel}"`);
  }
  const mounts = mountsOf(Array.isArray(host.Mounts) ? host.Mounts : []);
  const tmpfsMap = strMap(host.Tmpfs, "HostConfig.Tmpfs");
  const tmpfs: Array<string | Obj> = [
    ...Object.entries(tmpfsMap).map(([dest, opts]) => (opts ? `${dest}:${String(opts)}` : dest)),
    ...mounts.tmpfs,
  ];
  const pidsLimit = num(host.PidsLimit, "HostConfig.PidsLimit");
  const cpuShares = num(host.CpuShares, "HostConfig.CpuShares");
  const entrypoint = strList(body.Entrypoint, "Entrypoint");
  const stopTimeout = body.StopTimeout;
  const out: Obj = {
    image: str(body.Image, "Image"),
    name: name || undefined,
    cmd: strList(body.Cmd, "Cmd"),
    env: dockerEnv(body.Env, "Env") ?? [],
    labels,
    service: serviceOf(labels).service,
    networks,
    sidecar: sidecarLabel !== "false",
    ports: portsOf(obj(body.ExposedPorts, "ExposedPorts"), labels),
    memoryBytes: memory > 0 ? memory : undefined,
    cpus: cpusOf(host),
    pids: pidsLimit > 0 ? pidsLimit : undefined,
    cpuShares: cpuShares > 0 ? cpuShares : undefined,
    user: str(body.User, "User") || undefined,
    entrypoint,
    workdir: str(body.WorkingDir, "WorkingDir") || undefined,
    hostname: str(body.Hostname, "Hostname") || undefined,
    readOnly: host.ReadonlyRootfs === true,
    privileged: host.Privileged === true,
    capAdd: strList(host.CapAdd, "HostConfig.CapAdd") ?? [],
    capDrop: strList(host.CapDrop, "HostConfig.CapDrop") ?? [],
    securityOpt: strList(host.SecurityOpt, "HostConfig.SecurityOpt") ?? [],
    autoRemove: host.AutoRemove === true,
    volumes: [...(strList(host.Binds, "HostConfig.Binds") ?? []), ...mounts.volumes],
    userns: usernsMode === "auto" ? "auto" : "host",
    restart: restartOf(obj(host.RestartPolicy, "HostConfig.RestartPolicy")),
    healthcheck: healthcheckOf(obj(body.Healthcheck, "Healthcheck")),
    // --no-healthcheck: the image's HEALTHCHECK is not run either.
    noHealthcheck:
      strList(obj(body.Healthcheck, "Healthcheck").Test, "Healthcheck.Test")?.[0] === "NONE" || undefined,
    publish: publishOf(obj(host.PortBindings, "HostConfig.PortBindings")),
    tmpfs,
    tty: body.Tty === true,
    interactive: body.OpenStdin === true,
    stdinOnce: body.OpenStdin === true && body.StdinOnce === true,
    consoleSize: body.Tty === true ? consoleSizeOf(host.ConsoleSize) : undefined,
    stopTimeoutS: typeof stopTimeout === "number" && stopTimeout >= 0 ? stopTimeout : undefined,
    stopSignal: str(body.StopSignal, "StopSignal") || undefined,
  };
  // The validator treats a present-but-undefined field like an absent one; drop them for clarity.
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/** Fields of POST /containers/{id}/update weft cannot change, with what to do instead. */
const UNSUPPORTED_UPDATE: Record<string, string> = {
  BlkioWeight: "block IO weights are not set by weft",
  CpusetCpus: "use --cpus",
  CpusetMems: "use --memory",
  CpuRealtimePeriod: "use --cpus",
  CpuRealtimeRuntime: "use --cpus",
  KernelMemory: "use --memory",
  MemoryReservation: "use --memory",
};

/** The Weft API update body for Docker's update body (docker update's flags). */
export function weftUpdateOf(input: unknown): Obj {
  const body = obj(input, "body");
  for (const [field, hint] of Object.entries(UNSUPPORTED_UPDATE)) {
    if (isSet(body[field])) throw badRequest(`${field} cannot be updated by weft: ${hint}`);
  }
  const memory = num(body.Memory, "Memory");
  const swap = num(body.MemorySwap, "MemorySwap");
  if (swap > 0 && swap !== memory) throw badRequest("MemorySwap cannot be updated: swap is not configurable");
  const pids = num(body.PidsLimit, "PidsLimit");
  const shares = num(body.CpuShares, "CpuShares");
  const restart = restartOf(obj(body.RestartPolicy, "RestartPolicy"));
  const out: Obj = {};
  if (memory > 0) out.memoryBytes = memory;
  const cpus = cpusOf(body);
  if (cpus !== undefined) out.cpus = cpus;
  if (pids > 0) out.pids = pids;
  if (shares > 0) out.cpuShares = shares;
  if (restart) out.restart = restart;
  return out;
}
