// `weft up` and `weft down` as operations on a ComposeApi: plan, then one daemon call per action with
// one progress line each (as docker compose prints them), services in depends_on order.
import type { Clock } from "../engine/parts";
import type { ContainerState } from "../engine/types";
import type { ComposeApi } from "./api";
import { ComposeError } from "./errors";
import type { Manifest, ServiceConfig } from "./manifest";
import { type Action, planDown, planUp } from "./plan";
import { containerName } from "./spec";

export interface UpOptions {
  /** Progress: one line per finished action. */
  print(line: string): void;
  clock: Clock;
  /** How long to wait for a dependency to be healthy (or running). Default 120 s. */
  waitTimeoutMs?: number;
  /** Seconds between the stop signal and SIGKILL when a container is replaced or removed. Default 10. */
  stopTimeoutS?: number;
}

export interface UpResult {
  created: number;
  recreated: number;
  started: number;
  unchanged: number;
  removed: number;
}

const POLL_MS = 500;

function line(kind: "Container" | "Volume", name: string, what: string): string {
  return ` ✔ ${kind.padEnd(9)} ${name.padEnd(24)} ${what}`;
}

export async function up(api: ComposeApi, m: Manifest, o: UpOptions): Promise<UpResult> {
  const stopS = o.stopTimeoutS ?? 10;
  const plan = planUp(m, await api.list(), await api.volumes());
  const result: UpResult = { created: 0, recreated: 0, started: 0, unchanged: 0, removed: 0 };
  for (const v of plan.volumesToCreate) {
    await api.createVolume(v);
    o.print(line("Volume", v, "Created"));
  }
  const remove = async (a: Extract<Action, { kind: "remove" }>) => {
    await removeContainer(api, a.container, stopS);
    result.removed++;
    o.print(line("Container", a.name, a.reason === "orphan" ? "Removed (orphan)" : "Removed"));
  };
  for (const a of plan.orphans) if (a.kind === "remove") await remove(a);
  const apply = async (a: Action) => {
    switch (a.kind) {
      case "remove":
        await remove(a);
        break;
      case "keep":
        result.unchanged++;
        o.print(line("Container", a.name, "Running"));
        break;
      case "start":
        await api.start(a.container.id);
        result.started++;
        o.print(line("Container", a.name, "Started"));
        break;
      case "create":
        await api.run(a.body);
        result.created++;
        o.print(line("Container", a.name, "Started"));
        break;
      case "recreate":
        await removeContainer(api, a.old, stopS);
        await api.run(a.body);
        result.recreated++;
        o.print(line("Container", a.name, "Recreated"));
        break;
    }
  };
  const byName = new Map(m.services.map((s) => [s.name, s]));
  for (const sp of plan.services) {
    for (const dep of sp.service.dependsOn) {
      await waitFor(api, m.project, byName.get(dep.service)!, dep.condition, o);
    }
    for (const a of sp.actions) {
      try {
        await apply(a);
      } catch (err) {
        // The daemon's message says what went wrong; say which container of which service it was.
        const e = err as Error & { code?: string };
        if (e instanceof ComposeError) throw e;
        throw Object.assign(new Error(`${a.name} (services.${sp.service.name}): ${e.message}`), {
          code: e.code,
        });
      }
    }
  }
  return result;
}

async function removeContainer(api: ComposeApi, c: ContainerState, stopS: number): Promise<void> {
  if (c.status === "running" || c.status === "restarting") {
    // A graceful stop first (deregistered, SIGTERM, grace); force only for what stop leaves.
    await api.stop(c.id, stopS).catch(() => undefined);
  }
  await api.remove(c.id, true);
}

/** Waits until every replica of `dep` runs (service_started) or is healthy (service_healthy). */
async function waitFor(
  api: ComposeApi,
  project: string,
  dep: ServiceConfig,
  condition: "service_started" | "service_healthy",
  o: UpOptions,
): Promise<void> {
  if (condition === "service_started" || dep.replicas === 0) return;
  const timeoutMs = o.waitTimeoutMs ?? 120_000;
  const deadline = o.clock.now().getTime() + timeoutMs;
  const names = Array.from({ length: dep.replicas }, (_, i) => containerName(project, dep.name, i + 1));
  for (;;) {
    const states = await Promise.all(names.map((n) => api.inspect(n)));
    const bad = states.find((c) => c.health?.status === "unhealthy" || c.status === "exited");
    if (bad) {
      const why = bad.status === "exited" ? `exited (code ${bad.exitCode ?? "unknown"})` : "is unhealthy";
      const last = bad.health?.log.at(-1)?.output.trim();
      throw new ComposeError(
        "DEPENDENCY_FAILED",
        `dependency failed to start: container ${bad.name} ${why}${last ? ` (last check: ${last.slice(0, 200)})` : ""}; see 'weft logs ${bad.name}'`,
      );
    }
    if (states.every((c) => c.health?.status === "healthy")) {
      for (const n of names) o.print(line("Container", n, "Healthy"));
      return;
    }
    if (o.clock.now().getTime() >= deadline) {
      const pending = states.filter((c) => c.health?.status !== "healthy").map((c) => c.name);
      const noHealth = states.some((c) => !c.health);
      throw new ComposeError(
        "DEPENDENCY_TIMEOUT",
        `${pending.join(", ")} did not become healthy within ${Math.round(timeoutMs / 1000)} s${noHealth ? " (the daemon reports no health for it: does it run health checks?)" : ""}; raise --wait-timeout or check 'weft inspect ${pending[0]}'`,
      );
    }
    await o.clock.sleep(POLL_MS);
  }
}

export interface DownOptions {
  print(line: string): void;
  /** Also remove the named volumes declared in the file. */
  volumes: boolean;
  stopTimeoutS?: number;
}

/** Stops and removes the project's containers (and its named volumes with `volumes`). */
export async function down(
  api: ComposeApi,
  m: Pick<Manifest, "project" | "services" | "volumes">,
  o: DownOptions,
): Promise<number> {
  const victims = planDown(
    m.project,
    await api.list(),
    m.services.map((s) => s.name),
  );
  for (const c of victims) {
    await removeContainer(api, c, o.stopTimeoutS ?? 10);
    o.print(line("Container", c.name, "Removed"));
  }
  if (o.volumes) {
    const existing = await api.volumes();
    for (const v of m.volumes.map((n) => `${m.project}_${n}`)) {
      if (!existing.includes(v)) continue;
      await api.removeVolume(v);
      o.print(line("Volume", v, "Removed"));
    }
  }
  return victims.length;
}
