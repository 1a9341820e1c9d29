// cgroup v2 on a fake hierarchy (a temp dir): this host is v1, so the v2 file formats are checked here
// and against a real v2 kernel only where one is available.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { createCgroup, readUsage } from "./cgroup";
import type { CgroupLayout } from "./layout";

function fakeV2(t: { teardown(fn: () => void): void }): { root: string; layout: CgroupLayout } {
  const root = mkdtempSync(join(tmpdir(), "wt-cg2-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
  writeFileSync(join(root, "cgroup.subtree_control"), "cpu memory pids\n");
  mkdirSync(join(root, "weft"));
  writeFileSync(join(root, "weft", "cgroup.subtree_control"), "\n");
  return { root, layout: { mode: "v2", v1Mounts: {}, v2Mount: root } };
}

test("v2 limits go to memory.max, cpu.max and pids.max, with controllers enabled in the parent", async (t) => {
  const { root, layout } = fakeV2(t);
  await createCgroup(layout, "/weft/box", { memoryBytes: 32 * 1024 * 1024, cpus: 1.5, pids: 64 });
  const read = (f: string) => readFileSync(join(root, f), "utf8");
  t.is(read("weft/box/memory.max"), "33554432");
  t.is(read("weft/box/cpu.max"), "150000 100000");
  t.is(read("weft/box/pids.max"), "64");
  // The root already had all three enabled and was left alone; a regular file keeps only the last write.
  t.is(read("cgroup.subtree_control"), "cpu memory pids\n");
  t.is(read("weft/cgroup.subtree_control"), "+pids");
});

test("v2 usage: memory without inactive file cache, cpu in nanoseconds", async (t) => {
  const { root, layout } = fakeV2(t);
  const dir = join(root, "weft", "box");
  mkdirSync(dir);
  writeFileSync(join(dir, "memory.current"), "10485760\n");
  writeFileSync(join(dir, "memory.stat"), "anon 6291456\nfile 4194304\ninactive_file 2097152\n");
  writeFileSync(join(dir, "cpu.stat"), "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n");
  writeFileSync(join(dir, "pids.current"), "3\n");
  t.deepEqual(await readUsage(layout, "/weft/box"), {
    memoryBytes: 10485760 - 2097152,
    pids: 3,
    cpuUsageNs: 1_234_000,
  });
});
