// One JSON file per container (STATE/containers/<id>/state.json), written atomically (temp file +
// rename), so a daemon that dies mid-write leaves the old or the new state, never half of one.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerState } from "./types";

export class StateStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
  }

  containerDir(id: string): string {
    return join(this.dir, id);
  }

  save(state: ContainerState): void {
    const dir = this.containerDir(state.id);
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    const tmp = join(dir, `.state.json.${process.pid}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, join(dir, "state.json"));
  }

  /** Every readable state file; unreadable ones are reported through `onBad` and skipped. */
  loadAll(onBad: (id: string, err: unknown) => void): ContainerState[] {
    if (!existsSync(this.dir)) return [];
    const out: ContainerState[] = [];
    for (const id of readdirSync(this.dir)) {
      const file = join(this.dir, id, "state.json");
      if (!existsSync(file)) continue;
      try {
        out.push(JSON.parse(readFileSync(file, "utf8")) as ContainerState);
      } catch (err) {
        onBad(id, err);
      }
    }
    return out;
  }

  /** Every container folder, with or without a state file. */
  listDirs(): string[] {
    return existsSync(this.dir) ? readdirSync(this.dir) : [];
  }

  removeDir(id: string): void {
    rmSync(this.containerDir(id), { recursive: true, force: true });
  }
}
