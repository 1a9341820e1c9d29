// Which capabilities a container gets: Docker's default set, changed by --cap-add/--cap-drop
// (names with or without CAP_, any case, or ALL), or every capability with --privileged.
import { readFileSync } from "node:fs";
import { OciError } from "./errors";

/**
 * Every capability of Linux 5.9+ (what runc 1.1 knows), in kernel bit order (index = bit number).
 * --privileged and `--cap-add ALL` give those of them the daemon itself holds.
 */
export const ALL_CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** "net_raw", "NET_RAW", "CAP_NET_RAW" → "CAP_NET_RAW"; "all" → "ALL"; unknown names throw, naming `flag`. */
export function normalizeCapability(name: string, flag: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === "ALL") return "ALL";
  const full = upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
  if (!ALL_CAPABILITIES.includes(full)) {
    throw new OciError(
      "INVALID_CAPABILITY",
      `${flag}: unknown capability "${name}"; use a name like NET_ADMIN or ALL (see capabilities(7))`,
    );
  }
  return full;
}

/**
 * The effective set, as Docker computes it: start from the defaults (or nothing when ALL is
 * dropped, or everything when ALL is added), drop, then add; an explicit add beats a drop of ALL.
 */
export function effectiveCapabilities(
  o: { capAdd?: string[]; capDrop?: string[]; privileged?: boolean },
  available = hostCapabilities(),
): string[] {
  // As Docker: "all" means all that this process may hand on (runc fails on any other).
  if (o.privileged) return [...available];
  const add = (o.capAdd ?? []).map((c) => normalizeCapability(c, "--cap-add"));
  const drop = (o.capDrop ?? []).map((c) => normalizeCapability(c, "--cap-drop"));
  for (const c of add) {
    if (c !== "ALL" && !available.includes(c)) {
      throw new OciError(
        "INVALID_CAPABILITY",
        `--cap-add ${c}: the weft daemon does not hold this capability on this host, so it cannot give it to a container`,
      );
    }
  }
  let caps = add.includes("ALL") ? [...available] : [...DEFAULT_CAPABILITIES];
  if (drop.includes("ALL")) caps = [];
  caps = caps.filter((c) => !drop.includes(c) || add.includes(c));
  for (const c of add) if (c !== "ALL" && !caps.includes(c)) caps.push(c);
  // Order as the kernel numbers them, so the same flags always give the same spec.
  return ALL_CAPABILITIES.filter((c) => caps.includes(c));
}

let cachedHost: string[] | undefined;

/** The capabilities in this process's bounding set (CapBnd of /proc/self/status), by name. */
export function hostCapabilities(status?: string): string[] {
  if (status === undefined && cachedHost) return cachedHost;
  const text = status ?? readFileSync("/proc/self/status", "utf8");
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(text)?.[1];
  const mask = hex === undefined ? -1n : BigInt(`0x${hex}`);
  const caps = ALL_CAPABILITIES.filter((_, bit) => mask === -1n || ((mask >> BigInt(bit)) & 1n) === 1n);
  if (status === undefined) cachedHost = caps;
  return caps;
}
