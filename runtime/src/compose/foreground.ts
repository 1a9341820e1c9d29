// `weft up` without -d: stays in the foreground reporting what happens to the project's containers
// (exits, restarts, health) until Ctrl-C, then stops them, as docker compose does when attached.
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
  o: { print(line: string): void; clock: Clock; stopTimeoutS: number },
): Promise<number> {
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  o.print("Watching the containers; press Ctrl-C to stop them (weft up -d returns instead).");
  const seen = new Map<string, string>();
  try {
    while (!interrupted) {
      const mine = projectContainers(await api.list().catch(() => []), m.project);
      for (const c of mine) {
        const now = describeState(c);
        const before = seen.get(c.name);
        if (before !== undefined && before !== now) o.print(`${c.name.padEnd(26)} ${now}`);
        seen.set(c.name, now);
      }
      await o.clock.sleep(POLL_MS);
    }
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
  o.print("Stopping...");
  const mine = projectContainers(await api.list(), m.project).filter((c) => c.status === "running");
  for (const c of mine.reverse()) {
    await api.stop(c.id, o.stopTimeoutS).catch((err: Error) => o.print(`${c.name}: ${err.message}`));
    o.print(` ✔ Container ${c.name.padEnd(24)} Stopped`);
  }
  return 0;
}
