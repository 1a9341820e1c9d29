// The run options with fake parts: how the image config merges, what reaches the OCI spec, --rm,
// OOM reporting, stats and the validation messages (each names its flag).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { DEFAULT_CAPABILITIES } from "../oci/index";
import { Engine } from "./engine";
import { FakeSystem } from "./fake-parts";
import { containerArgs } from "./image-config";
import type { RunSpec } from "./types";
import { validateRunSpec } from "./validate";

function setup(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), "weft-opts-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sys = new FakeSystem();
  return { dir, sys, engine: new Engine(sys.parts(dir)) };
}

function spec(fields: Record<string, unknown>): RunSpec {
  return validateRunSpec({ image: "busybox", sidecar: false, ...fields });
}

const image = { name: "web", config: { cmd: ["--port", "80"], entrypoint: ["/app"] } };

test("image config merges as Docker: args replace CMD, --entrypoint replaces it and clears CMD", (t) => {
  t.deepEqual(containerArgs(spec({}), image), ["/app", "--port", "80"]);
  t.deepEqual(containerArgs(spec({ cmd: ["--port", "81"] }), image), ["/app", "--port", "81"]);
  t.deepEqual(containerArgs(spec({ entrypoint: ["/bin/sh"] }), image), ["/bin/sh"]);
  t.deepEqual(containerArgs(spec({ entrypoint: ["/bin/sh"], cmd: ["-c", "x"] }), image), [
    "/bin/sh",
    "-c",
    "x",
  ]);
  t.deepEqual(containerArgs(spec({ entrypoint: [], cmd: ["ls"] }), image), ["ls"]);
});

test("defaults reach the spec: Docker's caps, the seccomp profile, rw root, hostname = name", async (t) => {
  const { sys, engine } = setup(t);
  const c = await engine.run(spec({ name: "plain", cmd: ["sleep", "1"] }));
  const o = sys.specs.at(-1)!;
  t.deepEqual([...(o.capabilities ?? [])].sort(), [...DEFAULT_CAPABILITIES].sort());
  t.deepEqual(o.seccomp?.syscalls[0]?.names[0], "default");
  t.false(o.readonlyRootfs);
  t.false(o.privileged);
  t.is(o.hostname, "plain");
  t.is(o.cwd, "/");
  t.is(o.idMappings, undefined);
  t.is(c.seccomp, "default");
});

test("flags reach the spec: caps, unconfined, read-only, privileged, hostname, workdir, userns", async (t) => {
  const { sys, engine } = setup(t);
  await engine.run(
    spec({
      name: "a",
      cmd: ["x"],
      capAdd: ["NET_ADMIN"],
      capDrop: ["NET_RAW"],
      securityOpt: ["seccomp=unconfined"],
      readOnly: true,
      hostname: "box",
      workdir: "/work",
      userns: "auto",
    }),
  );
  const o = sys.specs.at(-1)!;
  t.true(o.capabilities?.includes("CAP_NET_ADMIN"));
  t.false(o.capabilities?.includes("CAP_NET_RAW"));
  t.is(o.seccomp, undefined);
  t.true(o.readonlyRootfs);
  t.is(o.hostname, "box");
  t.is(o.cwd, "/work");
  t.true(o.env.includes("HOSTNAME=box"));
  t.is(o.idMappings?.uid[0]?.containerID, 0);
  await engine.run(spec({ name: "p", cmd: ["x"], privileged: true }));
  const p = sys.specs.at(-1)!;
  t.true(p.privileged);
  t.is(p.seccomp, undefined, "privileged runs without seccomp");
  t.true(p.capabilities?.includes("CAP_SYS_ADMIN"));
});

test("a named volume is made on first use and bound; in use, it cannot be removed", async (t) => {
  const { dir, sys, engine } = setup(t);
  await engine.run(spec({ name: "v", cmd: ["x"], volumes: ["data:/data:ro"] }));
  const bind = sys.specs.at(-1)!.binds.find((b) => b.destination === "/data");
  t.deepEqual(bind, { source: join(dir, "volumes", "data", "_data"), destination: "/data", readonly: true });
  t.deepEqual(
    engine.listVolumes().map((v) => [v.name, v.usedBy]),
    [["data", ["v"]]],
  );
  t.throws(() => engine.removeVolume("data"), { message: /in use by container\(s\) v/ });
  await engine.remove("v", true);
  engine.removeVolume("data");
  t.deepEqual(engine.listVolumes(), []);
});

test("a missing bind source fails the run before anything is made", async (t) => {
  const { sys, engine } = setup(t);
  await t.throwsAsync(engine.run(spec({ name: "b", cmd: ["x"], volumes: ["/nonexistent/wt:/x"] })), {
    message: /^-v \/nonexistent\/wt:\/x: host path \/nonexistent\/wt does not exist/,
  });
  t.deepEqual(Object.values(sys.leftovers()), [0, 0, 0, 0, 0, 0]);
});

test("an app the kernel OOM-killed is exited (137) with oomKilled; --rm removes an exited container", async (t) => {
  const { sys, engine } = setup(t);
  const hog = await engine.run(spec({ name: "hog", cmd: ["x"], memoryBytes: 16 * 1024 * 1024 }));
  sys.oomKilled.add(hog.cgroupPath);
  sys.exitApp(hog.id, 137);
  const s = await engine.inspect("hog");
  t.like(s, { status: "exited", exitCode: 137, oomKilled: true });
  const eph = await engine.run(spec({ name: "eph", cmd: ["x"], autoRemove: true }));
  sys.exitApp(eph.id, 0);
  await engine.list();
  for (let i = 0; i < 100 && (await engine.list()).some((c) => c.name === "eph"); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  t.deepEqual(
    (await engine.list()).map((c) => c.name),
    ["hog"],
  );
});

test("stats: cpu over the interval, memory against the limit, net bytes as the container sees them", async (t) => {
  const { engine } = setup(t);
  await engine.run(spec({ name: "s", cmd: ["x"], memoryBytes: 64 * 1024 * 1024 }));
  const s = await engine.stats("s");
  t.is(s.memoryLimitBytes, 64 * 1024 * 1024);
  t.is(s.memoryPercent, 12.5);
  t.true(s.cpuPercent > 0);
  // The fake host veth received 2000 bytes (sent by the container) and sent 1000.
  t.is(s.netTxBytes, 2000);
  t.is(s.netRxBytes, 1000);
  t.is(s.pids, 2);
});

test("validation errors name the flag", (t) => {
  for (const [body, message] of [
    [{ workdir: "rel" }, /^workdir \(-w\) must be an absolute path/],
    [{ user: "a b" }, /^user \(--user\)/],
    [{ capAdd: ["FLY"] }, /^--cap-add: unknown capability/],
    [{ capDrop: "NET_RAW" }, /^capDrop \(--cap-drop\) must be an array/],
    [{ securityOpt: ["apparmor=x"] }, /^--security-opt "apparmor=x" is not supported/],
    [{ securityOpt: ["seccomp=rel.json"] }, /^--security-opt seccomp=/],
    [{ volumes: ["rel:/x", "x"] }, /^-v/],
    [{ volumes: ["a:/x", "b:/x"] }, /^-v: \/x is mounted twice/],
    [{ hostname: "-bad" }, /^hostname \(--hostname\)/],
    [{ readOnly: "yes" }, /^readOnly \(--read-only\) must be a boolean/],
    [{ autoRemove: 1 }, /^autoRemove \(--rm\)/],
    [{ userns: "keep-id" }, /^userns \(--userns\)/],
  ] as const) {
    const err = t.throws(() => spec(body as Record<string, unknown>), undefined, JSON.stringify(body));
    t.regex(err?.message ?? "", message);
    t.is((err as { code?: string }).code, "INVALID_ARGUMENT");
  }
});
