// The OCI runtime spec (1.0.2, as runc 1.1 reads it) a container gets: Docker's defaults for
// capabilities, mounts, masked paths and devices, so images behave as they do under Docker.
import { DEFAULT_CAPABILITIES } from "./capabilities";
import { containerNofile } from "./limits";
import type { OciSeccomp } from "./seccomp";

export { DEFAULT_CAPABILITIES };

export interface SpecOptions {
  /** The merged overlay: the container's root. */
  rootfs: string;
  args: string[];
  /** KEY=VALUE; PATH and HOSTNAME are added when missing, as Docker does. */
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  hostname: string;
  /** An existing network namespace to join, e.g. /var/run/netns/weft-<id>. */
  netnsPath: string;
  /** Absolute cgroup path, e.g. /weft/<id>: runc creates it under every controller. */
  cgroupsPath: string;
  /** OCI linux.resources (memory, cpu, pids); the default device rules are added to it. */
  resources: object;
  /** Mount the root read-only (default false). */
  readonlyRootfs?: boolean;
  /** Host files bind-mounted in, e.g. resolv.conf, hosts, hostname. */
  binds: Array<{ source: string; destination: string; readonly?: boolean }>;
  /** The capability set (default Docker's, DEFAULT_CAPABILITIES); see effectiveCapabilities. */
  capabilities?: string[];
  /** The syscall filter (default none: the engine always passes one unless seccomp=unconfined). */
  seccomp?: OciSeccomp;
  /**
   * --privileged: no masked or read-only paths, /sys writable, every device allowed in the device
   * cgroup. Capabilities and seccomp are the caller's to set (all, none).
   */
  privileged?: boolean;
  /** A user namespace with these maps (container id → host id); default: none, ids are the host's. */
  idMappings?: { uid: OciIdMapping[]; gid: OciIdMapping[] };
  /**
   * --tmpfs mounts (engine TmpfsSpec): memory-backed, empty at every start, noexec,nosuid,nodev as
   * Docker's unless `exec`; size in bytes (default the kernel's: half the host's memory), mode octal.
   */
  tmpfs?: Array<{ destination: string; sizeBytes?: number; mode: number; exec?: boolean }>;
  /** RLIMIT_NOFILE, soft and hard (default 1048576, or the host's hard limit if weft cannot raise it). */
  nofile?: number;
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface OciDeviceRule {
  allow: boolean;
  type?: "a" | "c" | "b";
  major?: number;
  minor?: number;
  access: string;
}

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    rlimits: Array<{ type: string; hard: number; soft: number }>;
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    namespaces: Array<{ type: string; path?: string }>;
    cgroupsPath: string;
    resources: Record<string, unknown> & { devices: OciDeviceRule[] };
    maskedPaths: string[];
    readonlyPaths: string[];
    seccomp?: OciSeccomp;
    uidMappings?: OciIdMapping[];
    gidMappings?: OciIdMapping[];
  };
}

export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Deny everything, then allow what runc allows by default (libcontainer/specconv AllowedDevices). */
export const DEFAULT_DEVICE_RULES: OciDeviceRule[] = [
  { allow: false, access: "rwm" },
  { allow: true, type: "c", access: "m" }, // mknod of any char device (using it still needs a rule)
  { allow: true, type: "b", access: "m" }, // mknod of any block device
  { allow: true, type: "c", major: 1, minor: 3, access: "rwm" }, // /dev/null
  { allow: true, type: "c", major: 1, minor: 8, access: "rwm" }, // /dev/random
  { allow: true, type: "c", major: 1, minor: 7, access: "rwm" }, // /dev/full
  { allow: true, type: "c", major: 5, minor: 0, access: "rwm" }, // /dev/tty
  { allow: true, type: "c", major: 1, minor: 5, access: "rwm" }, // /dev/zero
  { allow: true, type: "c", major: 1, minor: 9, access: "rwm" }, // /dev/urandom
  { allow: true, type: "c", major: 5, minor: 1, access: "rwm" }, // /dev/console
  { allow: true, type: "c", major: 136, access: "rwm" }, // /dev/pts/*
  { allow: true, type: "c", major: 5, minor: 2, access: "rwm" }, // /dev/ptmx
  { allow: true, type: "c", major: 10, minor: 200, access: "rwm" }, // /dev/net/tun
];

/** Docker's defaults (moby oci/defaults.go): kernel interfaces a container must not read or change. */
export const DEFAULT_MASKED_PATHS = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

export const DEFAULT_READONLY_PATHS = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/** Builds config.json for a bundle; pure, so the engine can store or diff it. */
export function buildSpec(o: SpecOptions): OciSpec {
  const env = [...o.env];
  if (!env.some((e) => e.startsWith("PATH="))) env.push(DEFAULT_PATH);
  if (!env.some((e) => e.startsWith("HOSTNAME="))) env.push(`HOSTNAME=${o.hostname}`);
  const given = o.resources as Record<string, unknown>;
  const nofile = o.nofile ?? containerNofile();
  const givenDevices = Array.isArray(given["devices"]) ? (given["devices"] as OciDeviceRule[]) : [];
  const caps = o.capabilities ?? DEFAULT_CAPABILITIES;
  const privileged = o.privileged ?? false;
  const devices: OciDeviceRule[] = privileged
    ? [{ allow: true, access: "rwm" }]
    : [...DEFAULT_DEVICE_RULES, ...givenDevices];
  const namespaces: Array<{ type: string; path?: string }> = [
    { type: "pid" },
    { type: "ipc" },
    { type: "uts" },
    { type: "mount" },
    { type: "network", path: o.netnsPath },
  ];
  if (o.idMappings) namespaces.push({ type: "user" });
  const spec: OciSpec = {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: o.uid, gid: o.gid },
      args: o.args,
      env,
      cwd: o.cwd,
      capabilities: {
        bounding: [...caps],
        effective: [...caps],
        permitted: [...caps],
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: nofile, soft: nofile }],
      noNewPrivileges: true,
    },
    root: { path: o.rootfs, readonly: o.readonlyRootfs ?? false },
    hostname: o.hostname,
    mounts: [
      ...defaultMounts(privileged, o.idMappings !== undefined),
      ...byDepth([...o.binds.map(bindMount), ...(o.tmpfs ?? []).map(tmpfsMount)]),
    ],
    linux: {
      namespaces,
      cgroupsPath: o.cgroupsPath,
      // Later rules win, so the caller's device rules come after the deny-all defaults.
      resources: { ...given, devices },
      maskedPaths: privileged ? [] : [...DEFAULT_MASKED_PATHS],
      readonlyPaths: privileged ? [] : [...DEFAULT_READONLY_PATHS],
    },
  };
  if (o.seccomp) spec.linux.seccomp = o.seccomp;
  if (o.idMappings) {
    spec.linux.uidMappings = o.idMappings.uid;
    spec.linux.gidMappings = o.idMappings.gid;
  }
  return spec;
}

function defaultMounts(privileged: boolean, userns: boolean): OciMount[] {
  const ro = privileged ? [] : ["ro"];
  // A new user namespace may not mount sysfs for a network namespace it does not own (the
  // workload's netns belongs to the host's): bind the host's /sys instead, as Podman does.
  const sys: OciMount = userns
    ? {
        destination: "/sys",
        type: "bind",
        source: "/sys",
        options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
      }
    : { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", ...ro] };
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    sys,
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["nosuid", "noexec", "nodev", "relatime", ...ro],
    },
  ];
}

/** Parents before children (as Docker sorts them): a tmpfs on /data must not hide a volume on /data/x. */
function byDepth(mounts: OciMount[]): OciMount[] {
  const depth = (m: OciMount) => m.destination.split("/").length;
  return mounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i)
    .map((x) => x.m);
}

export function tmpfsMount(t: {
  destination: string;
  sizeBytes?: number;
  mode: number;
  exec?: boolean;
}): OciMount {
  const options = ["nosuid", "nodev"];
  if (!t.exec) options.push("noexec");
  options.push(`mode=${t.mode.toString(8)}`);
  if (t.sizeBytes !== undefined) options.push(`size=${t.sizeBytes}`);
  return { destination: t.destination, type: "tmpfs", source: "tmpfs", options };
}

function bindMount(b: { source: string; destination: string; readonly?: boolean }): OciMount {
  // rprivate: mounts made later on the host must not show up in the container, nor the reverse.
  const options = ["rbind", "rprivate"];
  if (b.readonly) options.push("ro");
  return { destination: b.destination, type: "bind", source: b.source, options };
}
