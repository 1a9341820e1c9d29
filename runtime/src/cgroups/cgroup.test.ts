// Real kernel: creates cgroups on this host's layout (v1 or v2); needs root.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { addProcess, createCgroup, readUsage, removeCgroup } from "./cgroup";
import { CgroupError } from "./errors";
import { type CgroupLayout, detectCgroupLayout } from "./layout";

const layout = detectCgroupLayout();
const MiB = 1024 * 1024;

/** Every directory the cgroup at `path` would have on this host. */
function dirsOf(l: CgroupLayout, path: string): string[] {
  if (l.mode === "v2") return [join(l.v2Mount!, path)];
  return [
    ...new Set(
      ["memory", "cpu", "cpuacct", "pids"].flatMap((c) => (l.v1Mounts[c] ? [join(l.v1Mounts[c], path)] : [])),
    ),
  ];
}

function limitFile(path: string, v1: [string, string], v2: string): string {
  return layout.mode === "v2" ? join(layout.v2Mount!, path, v2) : join(layout.v1Mounts[v1[0]]!, path, v1[1]);
}

test("a process in a limited cgroup is limited, counted, and leaves nothing behind", async (t) => {
  const parent = `/weft-test-${randomBytes(4).toString("hex")}`;
  const path = `${parent}/box`;
  t.teardown(() => removeCgroup(layout, parent));

  await createCgroup(layout, path, { memoryBytes: 64 * MiB, cpus: 0.5, pids: 20 });
  for (const dir of dirsOf(layout, path)) t.true(existsSync(dir), dir);
  t.is(
    readFileSync(limitFile(path, ["memory", "memory.limit_in_bytes"], "memory.max"), "utf8").trim(),
    String(64 * MiB),
  );
  t.is(readFileSync(limitFile(path, ["pids", "pids.max"], "pids.max"), "utf8").trim(), "20");
  if (layout.mode === "v2") {
    t.is(readFileSync(limitFile(path, ["cpu", ""], "cpu.max"), "utf8").trim(), "50000 100000");
  } else {
    t.is(readFileSync(limitFile(path, ["cpu", "cpu.cfs_quota_us"], ""), "utf8").trim(), "50000");
    t.is(readFileSync(limitFile(path, ["cpu", "cpu.cfs_period_us"], ""), "utf8").trim(), "100000");
  }

  // The child waits on stdin until it is in the cgroup, then charges 4 MiB of tmpfs to it (memory
  // charged before the move stays with the old cgroup) and becomes a plain sleep.
  const shmFile = `/dev/shm${parent}.fill`;
  const child = spawn("sh", ["-c", `read go; head -c ${4 * MiB} /dev/zero > ${shmFile}; exec sleep 30`], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  t.teardown(() => {
    child.kill("SIGKILL");
    rmSync(shmFile, { force: true });
  });
  await addProcess(layout, path, child.pid!);
  for (const dir of dirsOf(layout, path)) {
    t.deepEqual(readFileSync(join(dir, "cgroup.procs"), "utf8").trim().split("\n"), [String(child.pid)], dir);
  }
  child.stdin!.end("go\n");

  let usage = await readUsage(layout, path);
  for (let i = 0; i < 100 && !(usage.pids === 1 && usage.memoryBytes >= 4 * MiB); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    usage = await readUsage(layout, path);
  }
  t.is(usage.pids, 1);
  t.true(usage.memoryBytes >= 4 * MiB && usage.memoryBytes < 64 * MiB, `memory ${usage.memoryBytes}`);
  t.true(usage.cpuUsageNs > 0 && usage.cpuUsageNs < 10e9, `cpu ${usage.cpuUsageNs}`);

  // While the process lives, removal is refused with its pid named.
  const busy = await t.throwsAsync(removeCgroup(layout, path), { instanceOf: CgroupError });
  t.is(busy.code, "CGROUP_BUSY");
  t.true(busy.message.includes(String(child.pid)));

  child.kill("SIGKILL");
  await exited;
  await removeCgroup(layout, parent);
  for (const dir of [...dirsOf(layout, path), ...dirsOf(layout, parent)]) t.false(existsSync(dir), dir);
  await t.notThrowsAsync(removeCgroup(layout, parent)); // idempotent
});

test("a value the kernel refuses is reported with the file and the value", async (t) => {
  const path = `/weft-test-${randomBytes(4).toString("hex")}`;
  t.teardown(() => removeCgroup(layout, path));
  await createCgroup(layout, path, {});
  // Above the kernel's pid_max, so surely not a live process.
  const err = await t.throwsAsync(addProcess(layout, path, 2 ** 22 + 12345), { instanceOf: CgroupError });
  t.is(err.code, "CGROUP_WRITE_FAILED");
  t.regex(err.message, /cgroup\.procs/);
  t.regex(err.message, /4206649/);
});

test("a limit the kernel refuses names the limit, the file and the value, and undoes the new cgroup", async (t) => {
  if (layout.mode !== "v1") {
    t.pass("v2 accepts a child CPU quota above its parent's; nothing to refuse here");
    return;
  }
  const parent = `/weft-test-${randomBytes(4).toString("hex")}`;
  t.teardown(() => removeCgroup(layout, parent));
  await createCgroup(layout, parent, { cpus: 0.5 });
  // v1 CFS bandwidth is hierarchical: a child may not get more quota than its parent (EINVAL).
  const err = await t.throwsAsync(createCgroup(layout, `${parent}/greedy`, { cpus: 1 }), {
    instanceOf: CgroupError,
  });
  t.is(err.code, "CGROUP_WRITE_FAILED");
  t.regex(err.message, /cpus "100000" written to .*cpu\.cfs_quota_us \(EINVAL\)/);
  for (const dir of dirsOf(layout, `${parent}/greedy`)) t.false(existsSync(dir), dir);
  for (const dir of dirsOf(layout, parent)) t.true(existsSync(dir), dir);
});

test("invalid limits and paths fail before anything is made", async (t) => {
  const path = `/weft-test-${randomBytes(4).toString("hex")}`;
  const low = await t.throwsAsync(createCgroup(layout, path, { memoryBytes: MiB }), {
    instanceOf: CgroupError,
  });
  t.is(low.code, "INVALID_LIMIT");
  t.regex(low.message, /memoryBytes/);
  for (const dir of dirsOf(layout, path)) t.false(existsSync(dir));
  for (const bad of ["relative/x", "/a/../b", "/", "/a//b"]) {
    const err = await t.throwsAsync(createCgroup(layout, bad, {}), { instanceOf: CgroupError });
    t.is(err.code, "INVALID_PATH", bad);
  }
});

test("readUsage and addProcess on a missing cgroup say it does not exist", async (t) => {
  const path = `/weft-test-${randomBytes(4).toString("hex")}`;
  t.is((await t.throwsAsync(readUsage(layout, path), { instanceOf: CgroupError })).code, "CGROUP_NOT_FOUND");
  t.is(
    (await t.throwsAsync(addProcess(layout, path, process.pid), { instanceOf: CgroupError })).code,
    "CGROUP_NOT_FOUND",
  );
});

test("removeCgroup also removes what runc makes in the other v1 hierarchies", async (t) => {
  const extra = Object.entries(layout.v1Mounts).find(
    ([c]) => !["memory", "cpu", "cpuacct", "pids"].includes(c),
  );
  if (layout.mode !== "v1" || !extra) {
    t.pass("no other v1 hierarchy on this host");
    return;
  }
  const path = `/weft-test-${randomBytes(4).toString("hex")}`;
  const dir = join(extra[1], path, "container");
  mkdirSync(dir, { recursive: true });
  t.teardown(() => removeCgroup(layout, path));
  await removeCgroup(layout, path);
  t.false(existsSync(join(extra[1], path)), extra[0]);
});
