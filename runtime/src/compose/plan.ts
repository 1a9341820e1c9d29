// Convergence as data: from the file and the containers the daemon has, what `up` must do. Unchanged
// running containers are left alone, changed ones recreated, stopped ones started, replicas scaled
// and containers of services no longer in the file removed.
import type { ContainerState } from "../engine/types";
import { ComposeError } from "./errors";
import type { Manifest, ServiceConfig } from "./manifest";
import {
  configHash,
  containerName,
  createBody,
  LABEL_HASH,
  LABEL_PROJECT,
  LABEL_REPLICA,
  LABEL_SERVICE,
} from "./spec";

export type Action =
  | { kind: "create"; name: string; body: Record<string, unknown> }
  | { kind: "recreate"; name: string; old: ContainerState; body: Record<string, unknown> }
  | { kind: "start"; name: string; container: ContainerState }
  | { kind: "keep"; name: string; container: ContainerState }
  | {
      kind: "remove";
      name: string;
      container: ContainerState;
      reason: "scaled down" | "orphan" | "duplicate";
    };

export interface ServicePlan {
  service: ServiceConfig;
  /** Scale-down removals first, then replicas 1..N in order. */
  actions: Action[];
}

export interface Plan {
  project: string;
  /** Containers of services that are no longer in the file. */
  orphans: Action[];
  /** In depends_on order. */
  services: ServicePlan[];
  /** Named volumes to create (project-prefixed), those the daemon does not have yet. */
  volumesToCreate: string[];
}

/** The project's containers: labelled with it by an earlier `up`. */
export function projectContainers(all: ContainerState[], project: string): ContainerState[] {
  return all.filter((c) => c.labels?.[LABEL_PROJECT] === project);
}

function replicaOf(c: ContainerState, project: string, service: string): number | undefined {
  const label = c.labels?.[LABEL_REPLICA];
  if (label !== undefined && /^\d+$/.test(label)) return Number(label);
  const prefix = `${project}-${service}-`;
  const rest = c.name.startsWith(prefix) ? c.name.slice(prefix.length) : "";
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

export function planUp(m: Manifest, all: ContainerState[], existingVolumes: string[]): Plan {
  const mine = projectContainers(all, m.project);
  const wanted = new Set(m.services.map((s) => s.name));
  // A container that holds one of our names without our labels was made by hand: refuse to touch it.
  for (const s of m.services) {
    for (let r = 1; r <= s.replicas; r++) {
      const name = containerName(m.project, s.name, r);
      const holder = all.find((c) => c.name === name);
      if (holder && holder.labels?.[LABEL_PROJECT] !== m.project) {
        throw new ComposeError(
          "INVALID_MANIFEST",
          `container "${name}" exists but is not part of project "${m.project}"; remove it (weft rm -f ${name}) or choose another project with -p`,
        );
      }
    }
  }
  const orphans: Action[] = mine
    .filter((c) => !wanted.has(c.labels[LABEL_SERVICE] ?? ""))
    .map((c) => ({ kind: "remove", name: c.name, container: c, reason: "orphan" }));
  const services = m.services.map((s) => planService(m.project, s, mine));
  const volumesToCreate = m.volumes
    .map((v) => `${m.project}_${v}`)
    .filter((v) => !existingVolumes.includes(v));
  return { project: m.project, orphans, services, volumesToCreate };
}

function planService(project: string, s: ServiceConfig, mine: ContainerState[]): ServicePlan {
  const hash = configHash(s);
  const actions: Action[] = [];
  const byReplica = new Map<number, ContainerState>();
  const extra: Action[] = [];
  for (const c of mine.filter((x) => x.labels[LABEL_SERVICE] === s.name)) {
    const r = replicaOf(c, project, s.name);
    if (r === undefined || r < 1 || byReplica.has(r)) {
      extra.push({ kind: "remove", name: c.name, container: c, reason: "duplicate" });
    } else if (r > s.replicas) {
      extra.push({ kind: "remove", name: c.name, container: c, reason: "scaled down" });
    } else {
      byReplica.set(r, c);
    }
  }
  // Highest replica first, as docker compose scales down.
  extra.sort((a, b) => b.name.localeCompare(a.name, undefined, { numeric: true }));
  actions.push(...extra);
  for (let r = 1; r <= s.replicas; r++) {
    const name = containerName(project, s.name, r);
    const c = byReplica.get(r);
    const body = createBody(project, s, r);
    if (!c) actions.push({ kind: "create", name, body });
    else if (c.labels[LABEL_HASH] !== hash || c.name !== name)
      actions.push({ kind: "recreate", name, old: c, body });
    else if (c.status === "running" || c.status === "restarting")
      actions.push({ kind: "keep", name, container: c });
    else actions.push({ kind: "start", name, container: c });
  }
  return { service: s, actions };
}

/** Containers to remove for `down`: the project's, dependents before what they depend on. */
export function planDown(project: string, all: ContainerState[], order: string[]): ContainerState[] {
  const rank = (c: ContainerState) => {
    const i = order.indexOf(c.labels[LABEL_SERVICE] ?? "");
    // Services not in the file (orphans) go first: nothing in the file depends on them.
    return i < 0 ? Number.POSITIVE_INFINITY : i;
  };
  return projectContainers(all, project).sort(
    (a, b) => rank(b) - rank(a) || b.name.localeCompare(a.name, undefined, { numeric: true }),
  );
}
