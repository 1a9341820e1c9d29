import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { readOomKills } from "./oom";

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "wt-oom-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("v1: oom_kill from memory.oom_control", async (t) => {
  const mount = tempDir(t);
  mkdirSync(join(mount, "weft", "c1"), { recursive: true });
  writeFileSync(
    join(mount, "weft", "c1", "memory.oom_control"),
    "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
  );
  const layout = { mode: "v1" as const, v1Mounts: { memory: mount } };
  t.is(await readOomKills(layout, "/weft/c1"), 2);
  t.is(await readOomKills(layout, "/weft/gone"), 0, "a removed cgroup reads as no kills");
  t.is(await readOomKills({ mode: "v1", v1Mounts: {} }, "/weft/c1"), 0);
});

test("v2: oom_kill from memory.events", async (t) => {
  const mount = tempDir(t);
  mkdirSync(join(mount, "weft", "c1"), { recursive: true });
  writeFileSync(join(mount, "weft", "c1", "memory.events"), "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n");
  t.is(await readOomKills({ mode: "v2", v1Mounts: {}, v2Mount: mount }, "/weft/c1"), 1);
});
