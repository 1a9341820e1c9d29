// The default seccomp filter: Podman's profile (/usr/share/containers/seccomp.json, shipped by
// Debian's golang-github-containers-common) turned into OCI linux.seccomp for this machine's
// architecture and the container's capabilities, as Podman and Docker do: a rule with
// `includes.caps` applies only when the container has every one of those capabilities, one with
// `excludes.caps` only when it has none of them (so --cap-add SYS_ADMIN also allows bpf, mount...).
import { readFileSync } from "node:fs";
import { OciError } from "./errors";

export const DEFAULT_SECCOMP_PROFILE = "/usr/share/containers/seccomp.json";

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface OciSeccompRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: OciSeccompRule[];
}

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface ProfileRule {
  names?: string[];
  name?: string;
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[] | null;
  includes?: Filter;
  excludes?: Filter;
}

interface Profile {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap?: Array<{ architecture: string; subArchitectures?: string[] }>;
  architectures?: string[];
  syscalls?: ProfileRule[];
}

/** Node's process.arch → the Go name the profile's `arches` filters use, and the seccomp arch. */
const ARCHES: Record<string, { go: string; scmp: string }> = {
  x64: { go: "amd64", scmp: "SCMP_ARCH_X86_64" },
  arm64: { go: "arm64", scmp: "SCMP_ARCH_AARCH64" },
  ia32: { go: "386", scmp: "SCMP_ARCH_X86" },
  arm: { go: "arm", scmp: "SCMP_ARCH_ARM" },
  s390x: { go: "s390x", scmp: "SCMP_ARCH_S390X" },
  ppc64: { go: "ppc64le", scmp: "SCMP_ARCH_PPC64LE" },
};

/** Reads the profile file; a missing file is an error that names the package to install. */
export function readSeccompProfile(path = DEFAULT_SECCOMP_PROFILE): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new OciError(
        "SECCOMP_PROFILE_MISSING",
        `the default seccomp profile ${path} is missing; install it with 'apt-get install golang-github-containers-common' (or scripts/install-deps.sh), or run with --security-opt seccomp=unconfined`,
      );
    }
    throw err;
  }
}

/** Converts a Podman/Docker profile (JSON text) into OCI linux.seccomp for `capabilities` and `arch`. */
export function seccompFor(profileText: string, capabilities: string[], arch = process.arch): OciSeccomp {
  let profile: Profile;
  try {
    profile = JSON.parse(profileText) as Profile;
  } catch (err) {
    throw new OciError("INVALID_SECURITY_OPT", `seccomp profile is not JSON: ${(err as Error).message}`);
  }
  if (typeof profile.defaultAction !== "string") {
    throw new OciError("INVALID_SECURITY_OPT", "seccomp profile has no defaultAction");
  }
  const native = ARCHES[arch];
  if (!native) {
    throw new OciError(
      "INVALID_SECURITY_OPT",
      `no seccomp architecture known for ${arch}; run with --security-opt seccomp=unconfined`,
    );
  }
  const mapped = profile.archMap?.find((a) => a.architecture === native.scmp);
  // The x32 ABI is left out, which denies its syscalls outright (tighter than Docker): no image ships
  // x32 binaries, most kernels boot with it off, and compiling its copy of the filter costs runc ~15 ms
  // on every start. i386 stays, as Docker keeps it, for 32-bit programs in images.
  const architectures = (
    mapped
      ? [mapped.architecture, ...(mapped.subArchitectures ?? [])]
      : (profile.architectures ?? [native.scmp])
  ).filter((a) => a !== "SCMP_ARCH_X32");
  const has = new Set(capabilities);
  const applies = (r: ProfileRule): boolean => {
    const inc = r.includes ?? {};
    const exc = r.excludes ?? {};
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(native.go)) return false;
    if (inc.caps && inc.caps.length > 0 && !inc.caps.every((c) => has.has(c))) return false;
    if (exc.arches?.includes(native.go)) return false;
    if (exc.caps?.some((c) => has.has(c))) return false;
    return true;
  };
  const syscalls: OciSeccompRule[] = [];
  for (const r of profile.syscalls ?? []) {
    if (!applies(r)) continue;
    const names = r.names ?? (r.name ? [r.name] : []);
    if (names.length === 0) continue;
    const rule: OciSeccompRule = { names, action: r.action };
    if (r.errnoRet !== undefined) rule.errnoRet = r.errnoRet;
    if (r.args && r.args.length > 0) rule.args = r.args;
    syscalls.push(rule);
  }
  const out: OciSeccomp = { defaultAction: profile.defaultAction, architectures, syscalls };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  return out;
}

let cachedText: string | undefined;
/** Converted filters by capability set: nearly every container has Docker's default set. */
const cachedFilters = new Map<string, OciSeccomp>();

/**
 * The default filter for these capabilities, reading the profile once per process and converting it
 * once per capability set. The result is shared: treat it as read-only.
 */
export function defaultSeccomp(capabilities: string[]): OciSeccomp {
  const key = [...capabilities].sort().join(",");
  let filter = cachedFilters.get(key);
  if (!filter) {
    cachedText ??= readSeccompProfile();
    filter = seccompFor(cachedText, capabilities);
    if (cachedFilters.size >= 64) cachedFilters.clear();
    cachedFilters.set(key, filter);
  }
  return filter;
}
