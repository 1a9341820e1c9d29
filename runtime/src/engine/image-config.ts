// How a container's process comes from its image and the run flags, as Docker merges them: the
// user (numbers or names from the image's /etc/passwd and /etc/group) and the command line.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RuntimeError } from "../errors";
import type { ImageHealthcheck } from "../image/record";
import type { ImageInfo } from "./parts";
import { type HealthCheckSpec, type RunSpec, SIDECAR_UID } from "./types";

/** "uid[:gid]" or a user name looked up in the image's /etc/passwd. */
export function resolveUser(user: string, rootfs: string): { uid: number; gid: number } {
  if (user === "") return { uid: 0, gid: 0 };
  const [u, g] = user.split(":");
  let uid = Number(u);
  let gid = g !== undefined ? Number(g) : Number.NaN;
  if (!/^\d+$/.test(u ?? "")) {
    const passwd = join(rootfs, "etc", "passwd");
    const line = existsSync(passwd)
      ? readFileSync(passwd, "utf8")
          .split("\n")
          .find((l) => l.split(":")[0] === u)
      : undefined;
    if (!line)
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `user "${u}" is not in the image's /etc/passwd; give a numeric UID`,
      );
    const fields = line.split(":");
    uid = Number(fields[2]);
    if (g === undefined) gid = Number(fields[3]);
  }
  if (g !== undefined && !/^\d+$/.test(g)) gid = lookupGroup(g, rootfs);
  if (Number.isNaN(gid)) gid = uid === 0 ? 0 : uid;
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new RuntimeError("INVALID_ARGUMENT", `user "${user}" must be UID or UID:GID`);
  }
  if (uid === SIDECAR_UID) {
    throw new RuntimeError("RESERVED_UID", `uid ${SIDECAR_UID} is reserved for the weft sidecar`);
  }
  return { uid, gid };
}

function lookupGroup(group: string, rootfs: string): number {
  const file = join(rootfs, "etc", "group");
  const line = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .find((l) => l.split(":")[0] === group)
    : undefined;
  if (!line) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `--user: group "${group}" is not in the image's /etc/group; give a numeric GID`,
    );
  }
  return Number(line.split(":")[2]);
}

/**
 * What the container runs, merged as Docker does: the entrypoint (--entrypoint, else the image's)
 * followed by the given command, else the image's cmd; --entrypoint clears the image's cmd.
 */
export function containerArgs(
  spec: RunSpec,
  image: { name: string; config: Pick<ImageInfo["config"], "cmd" | "entrypoint"> },
): string[] {
  const entrypoint = spec.entrypoint ?? image.config.entrypoint;
  const imageCmd = spec.entrypoint !== undefined ? [] : image.config.cmd;
  const args = [...entrypoint, ...(spec.cmd && spec.cmd.length > 0 ? spec.cmd : imageCmd)];
  if (args.length === 0) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `image "${image.name}" has no command; give one after the image name (weft run IMAGE CMD...)`,
    );
  }
  return args;
}

/**
 * `base` then `overrides`, each KEY=VALUE replacing the earlier entry of its key in place, else
 * appended (Docker's ReplaceOrAppendEnvValues): a container's config (docker inspect, commit) holds
 * each variable once. (runc's init would let the last one win in the process anyway.)
 */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out: string[] = [];
  const at = new Map<string, number>();
  for (const e of [...base, ...overrides]) {
    const eq = e.indexOf("=");
    const key = eq < 0 ? e : e.slice(0, eq);
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, out.length);
      out.push(e);
    } else out[i] = e;
  }
  return out;
}

/**
 * The image's HEALTHCHECK as the health monitor runs it, with Docker's defaults (30 s interval and
 * timeout, 3 retries, no start period); undefined for none or NONE.
 */
export function healthcheckOf(h: ImageHealthcheck | undefined): HealthCheckSpec | undefined {
  if (!h || h.test.length < 2 || (h.test[0] !== "CMD" && h.test[0] !== "CMD-SHELL")) return undefined;
  const ms = (ns: number | undefined, fallback: number) =>
    ns ? Math.max(1, Math.round(ns / 1e6)) : fallback;
  return {
    exec: h.test[0] === "CMD-SHELL" ? ["/bin/sh", "-c", h.test.slice(1).join(" ")] : h.test.slice(1),
    intervalMs: ms(h.intervalNs, 30_000),
    timeoutMs: ms(h.timeoutNs, 30_000),
    retries: h.retries || 3,
    startPeriodMs: ms(h.startPeriodNs, 0),
  };
}

/** A container's command health check as an image holds it (commit); an HTTP one has no image form. */
export function imageHealthcheck(h: HealthCheckSpec | undefined): ImageHealthcheck | undefined {
  if (!h?.exec) return undefined;
  return {
    test: ["CMD", ...h.exec],
    intervalNs: h.intervalMs * 1e6,
    timeoutNs: h.timeoutMs * 1e6,
    startPeriodNs: h.startPeriodMs * 1e6,
    retries: h.retries,
  };
}
