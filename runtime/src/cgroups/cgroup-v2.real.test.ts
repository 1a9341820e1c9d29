// cgroup v2 against the real kernel, as far as this host allows. A hybrid host (v1 controllers plus a
// cgroup2 mount) binds memory, cpu and pids to their v1 hierarchies; the kernel offers a controller to
// v2 only once no v1 hierarchy holds it, so the cgroup2 tree here has none of the three (at most
// hugetlb). What is checked for real: the v2 tree handling (create, move a process in, read usage,
// remove) and that a limit the host's v2 cannot enforce is refused, naming the field, leaving nothing.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { addProcess, createCgroup, readUsage, removeCgroup } from "./cgroup";
import { CgroupError } from "./errors";
import { type CgroupLayout, detectCgroupLayout } from "./layout";

const host = detectCgroupLayout();
const mount = host.v2Mount;
const offered = mount ? readFileSync(join(mount, "cgroup.controllers"), "utf8").trim().split(/\s+/) : [];
const layout: CgroupLayout = { mode: "v2", v1Mounts: {}, v2Mount: mount };
const parent = `/weft-test-${randomBytes(4).toString("hex")}`;

test.after.always(() => {
  if (mount && existsSync(join(mount, parent))) rmdirSync(join(mount, parent));
});

const realV2 = mount ? test : test.skip;

realV2(
  "a v2 cgroup on the real cgroup2 mount takes a process, reads usage, and is removed with it",
  async (t) => {
    const path = `${parent}/box`;
    await createCgroup(layout, path, {});
    t.true(existsSync(join(mount!, path)));
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    t.teardown(() => child.kill("SIGKILL"));
    await addProcess(layout, path, child.pid!);
    t.deepEqual(
      readFileSync(join(mount!, path, "cgroup.procs"), "utf8")
        .trim()
        .split("\n"),
      [String(child.pid)],
    );
    const usage = await readUsage(layout, path);
    // Controllers this host's v2 lacks read as 0 (memory, pids); cpu usage comes from cpu.stat, always there.
    t.true(usage.cpuUsageNs >= 0);
    if (!offered.includes("pids")) t.is(usage.pids, 0);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    await removeCgroup(layout, path);
    t.false(existsSync(join(mount!, path)));
  },
);

realV2(
  "a limit the host's cgroup2 cannot enforce is refused, naming the field, and nothing is left",
  async (t) => {
    t.log(`this host's cgroup2 offers: ${offered.join(" ") || "(no controllers)"}`);
    if (offered.includes("memory")) {
      t.pass("memory is available in v2 here: the v1-bound case does not apply");
      return;
    }
    const path = `${parent}/limited`;
    const err = await t.throwsAsync(createCgroup(layout, path, { memoryBytes: 64 * 1024 * 1024 }), {
      instanceOf: CgroupError,
    });
    t.is(err?.code, "CONTROLLER_MISSING");
    t.regex(err?.message ?? "", /cannot set memoryBytes: .*memory\.max does not exist/);
    t.false(existsSync(join(mount!, path)), "the cgroup this call made is removed again");
  },
);
