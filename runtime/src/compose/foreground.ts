// `weft up` without -d: stays in the foreground, as docker compose does when attached: each
// container's output prefixed with its name (from when this `up` began: all of what it started, the
// new output of what was already running; a replica started later is followed as it appears), what
// happens to the containers (exits, restarts, health), until Ctrl-C, which stops them.
import type { Clock } from "../engine/parts";
import type { ContainerState } from "../engine/types";
import type { ComposeApi } from "./api";
import type { Manifest } from "./manifest";
import { projectContainers } from "./plan";

const POLL_MS = 1000;

function describeState(c: ContainerState): string {
  if (c.status === "exited")
    return `exited (code ${c.exitCode ?? "unknown"}${c.oomKilled ? ", OOM killed" : ""})`;
  return c.health ? `${c.status} (${c.health.status})` : c.status;
}

export async function foreground(
  api: ComposeApi,
  m: Manifest,
  o: {
    print(line: string): void;
    clock: Clock;
    stopTimeoutS: number;
    /** The output followed starts here (ISO time): when this `up` began. */
    since: string;
  },
): Promise<number> {
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  o.print("Attached to the containers' output; press Ctrl-C to stop them (weft up -d returns instead).");
  const seen = new Map<string, string>();
  const following = new Map<string, Promise<void>>();
  /** Where a container's next stream starts: when its last one ended (it stopped), else `since`. */
  const resumeAt = new Map<string, string>();
  const stopFollowing = new AbortController();
  const width = Math.max(...m.services.map((s) => `${m.project}-${s.name}-${s.replicas}`.length), 10);
  try {
    while (!interrupted) {
      const mine = projectContainers(await api.list().catch(() => []), m.project);
      for (const c of mine) {
        // Running, or started since this `up` began and gone before a poll saw it run (its output
        // is still wanted, once).
        const wanted =
          c.status === "running" ||
          (!resumeAt.has(c.id) && c.startedAt !== undefined && c.startedAt >= o.since);
        if (api.follow && wanted && !following.has(c.id)) {
          const prefix = `${c.name.padEnd(width)} | `;
          const done = api
            .follow(
              c.id,
              resumeAt.get(c.id) ?? o.since,
              (line) => o.print(prefix + line),
              stopFollowing.signal,
            )
            .catch(() => undefined)
            // Followed again if it runs again (a restart), from where this stream ended.
            .finally(() => {
              resumeAt.set(c.id, new Date().toISOString());
              following.delete(c.id);
            });
          following.set(c.id, done);
        }
        const now = describeState(c);
        const before = seen.get(c.name);
        if (before !== undefined && before !== now) o.print(`${c.name.padEnd(width)}   ${now}`);
        seen.set(c.name, now);
      }
      await o.clock.sleep(POLL_MS);
    }
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
  stopFollowing.abort();
  await Promise.all(following.values());
  o.print("Stopping...");
  const mine = projectContainers(await api.list(), m.project).filter((c) => c.status === "running");
  for (const c of mine.reverse()) {
    await api.stop(c.id, o.stopTimeoutS).catch((err: Error) => o.print(`${c.name}: ${err.message}`));
    o.print(` ✔ Container ${c.name.padEnd(24)} Stopped`);
  }
  return 0;
}
