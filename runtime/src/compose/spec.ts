// What `weft up` asks the daemon for: one API create body per replica, labelled so that a later `up`
// finds the project's containers and can tell whether each still matches the file.
import { createHash } from "node:crypto";
import type { ServiceConfig } from "./manifest";

export const LABEL_PROJECT = "weft.project";
export const LABEL_SERVICE = "weft.compose.service";
export const LABEL_HASH = "weft.config-hash";
/** The replica number, so a name never has to be parsed to find it. */
export const LABEL_REPLICA = "weft.compose.replica";

export function containerName(project: string, service: string, replica: number): string {
  return `${project}-${service}-${replica}`;
}

/** The body of POST /containers/create (Weft API) for one replica of a service. */
export function createBody(project: string, s: ServiceConfig, replica: number): Record<string, unknown> {
  const body = serviceBody(s);
  return {
    ...body,
    name: containerName(project, s.name, replica),
    labels: {
      ...(body.labels as Record<string, string>),
      [LABEL_PROJECT]: project,
      [LABEL_SERVICE]: s.name,
      [LABEL_REPLICA]: String(replica),
      [LABEL_HASH]: configHash(s),
    },
  };
}

/**
 * A digest of everything that shapes a service's containers: two `up`s of the same file give the
 * same hash, and any field that changes a container changes it (replicas and depends_on do not).
 */
export function configHash(s: ServiceConfig): string {
  return createHash("sha256")
    .update(canonical(serviceBody(s)))
    .digest("hex")
    .slice(0, 16);
}

function serviceBody(s: ServiceConfig): Record<string, unknown> {
  const body: Record<string, unknown> = {
    image: s.image,
    cmd: s.command,
    entrypoint: s.entrypoint,
    env: s.environment,
    service: s.service,
    // A bare port is sent bare: the daemon applies its default protocol.
    ports: s.ports.map((p) => (p.protocol === "auto" ? String(p.port) : `${p.port}/${p.protocol}`)),
    labels: s.labels,
    memoryBytes: s.memoryBytes,
    cpus: s.cpus,
    pids: s.pids,
    sidecar: s.sidecar,
    user: s.user,
    workdir: s.workdir,
    readOnly: s.readOnly,
    capAdd: s.capAdd,
    capDrop: s.capDrop,
    volumes: s.volumes,
  };
  // Fields of issue #5 only when used, so a daemon that does not know them yet gets the same body
  // as before for a service that does not use them.
  if (s.healthcheck) body.healthcheck = s.healthcheck;
  if (s.restart.name !== "no") {
    body.restart =
      s.restart.name === "on-failure" && s.restart.maxRetries > 0
        ? `on-failure:${s.restart.maxRetries}`
        : s.restart.name;
  }
  if (s.publish.length > 0) body.publish = s.publish;
  if (s.tmpfs.length > 0) body.tmpfs = s.tmpfs;
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

/** JSON with sorted keys, so the hash does not depend on field order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}
