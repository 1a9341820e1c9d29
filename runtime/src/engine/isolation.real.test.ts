// Isolation, run flags, volumes, stats and OOM against the real runc and kernel, through one
// daemon's API. Each flag has a check that fails without it. Containers run `sleep` as their app
// and checks run through exec (which inherits the app's user, cwd, capabilities and seccomp) or
// read the app's own output from its logs.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import anyTest, { type TestFn } from "ava";
import { type RealDaemon, startRealDaemon } from "./real-daemon.testing";
import type { ContainerState, ContainerStats } from "./types";

const test = anyTest as TestFn<{ d: RealDaemon }>;

test.before(async (t) => {
  t.context.d = await startRealDaemon();
});
test.after.always(async (t) => {
  await t.context.d?.close();
});

const SLEEP = ["sh", "-c", "exec sleep 300"];

async function logsOf(d: RealDaemon, name: string, pattern: RegExp): Promise<string> {
  return d.until(`logs of ${name} matching ${pattern}`, async () => {
    const body = (await d.client.call("GET", `/containers/${name}/logs?stdout=1&stderr=1`)).body;
    return pattern.test(body) ? body : undefined;
  });
}

test.serial(
  "the default seccomp profile blocks swapon even with CAP_SYS_ADMIN; unconfined does not",
  async (t) => {
    const { d } = t.context;
    await d.run({ name: "sc-default", cmd: SLEEP, capAdd: ["SYS_ADMIN"] });
    await d.run({
      name: "sc-unconfined",
      cmd: SLEEP,
      capAdd: ["SYS_ADMIN"],
      securityOpt: ["seccomp=unconfined"],
    });
    const script = "touch /tmp/swapfile && swapon /tmp/swapfile";
    const blocked = await d.exec("sc-default", ["sh", "-c", script]);
    t.not(blocked.exitCode, 0);
    t.regex(blocked.stderr, /Operation not permitted/);
    const open = await d.exec("sc-unconfined", ["sh", "-c", script]);
    t.not(open.exitCode, 0, "not a swap file, but the kernel got to look at it");
    t.notRegex(open.stderr, /Operation not permitted/);
    // Normal work runs under the filter.
    t.deepEqual(await d.exec("sc-default", ["echo", "fine"]), { exitCode: 0, stdout: "fine\n", stderr: "" });
  },
);

test.serial("--cap-drop NET_RAW makes ping fail; the default set allows it", async (t) => {
  const { d } = t.context;
  await d.run({ name: "ping-default", cmd: SLEEP });
  await d.run({ name: "ping-noraw", cmd: SLEEP, capDrop: ["NET_RAW"] });
  const ping = ["ping", "-c", "1", "-W", "2", "127.0.0.1"];
  t.is((await d.exec("ping-default", ping)).exitCode, 0);
  t.not((await d.exec("ping-noraw", ping)).exitCode, 0);
});

test.serial("--privileged may mount; a default container may not", async (t) => {
  const { d } = t.context;
  await d.run({ name: "priv", cmd: SLEEP, privileged: true });
  await d.run({ name: "unpriv", cmd: SLEEP });
  const mount = ["mount", "-t", "tmpfs", "tmpfs", "/mnt"];
  t.is((await d.exec("priv", mount)).exitCode, 0);
  const denied = await d.exec("unpriv", mount);
  t.not(denied.exitCode, 0);
  const inspected = await d.client.json<ContainerState>("GET", "/containers/priv/json");
  t.true(inspected.privileged);
  t.true(inspected.capabilities?.includes("CAP_SYS_ADMIN"));
});

test.serial("--read-only: writes to the root fail, /tmp included (as Docker)", async (t) => {
  const { d } = t.context;
  await d.run({ name: "ro", cmd: SLEEP, readOnly: true });
  const w = await d.exec("ro", ["touch", "/tmp/x"]);
  t.not(w.exitCode, 0);
  t.regex(w.stderr, /Read-only file system/);
  await d.run({ name: "rw", cmd: SLEEP });
  t.is((await d.exec("rw", ["touch", "/tmp/x"])).exitCode, 0);
});

test.serial("--user by number and by name, -w, --entrypoint and --hostname reach the app", async (t) => {
  const { d } = t.context;
  await d.run({ name: "user-num", cmd: ["sh", "-c", "id; exec sleep 300"], user: "1000:50" });
  t.regex(await logsOf(d, "user-num", /uid=/), /uid=1000\(app\) gid=50\(staff\)/);
  await d.run({ name: "user-name", cmd: ["sh", "-c", "id; exec sleep 300"], user: "app" });
  t.regex(await logsOf(d, "user-name", /uid=/), /uid=1000\(app\) gid=1000\(app\)/);
  await d.run({ name: "wd", cmd: ["sh", "-c", "pwd; exec sleep 300"], workdir: "/srv/app" });
  t.regex(await logsOf(d, "wd", /\//), /^\/srv\/app$/m);
  await d.run({ name: "ep", entrypoint: ["/bin/sh"], cmd: ["-c", "echo from-entrypoint; exec sleep 300"] });
  t.regex(await logsOf(d, "ep", /from-entrypoint/), /from-entrypoint/);
  await d.run({ name: "hn", cmd: SLEEP, hostname: "custom-host" });
  t.is((await d.exec("hn", ["hostname"])).stdout, "custom-host\n");
  t.is((await d.exec("hn", ["cat", "/etc/hostname"])).stdout, "custom-host\n");
});

test.serial("--userns=auto: root in the container is an unprivileged uid on the host", async (t) => {
  const { d } = t.context;
  await d.run({
    name: "userns",
    cmd: ["sh", "-c", "id -u; cat /proc/self/uid_map; exec sleep 300"],
    userns: "auto",
  });
  const logs = await logsOf(d, "userns", /\d+\s+\d+\s+65536/);
  t.regex(logs, /^0$/m, "root inside");
  const [inside, outside] = /^\s*(\d+)\s+(\d+)\s+65536/m.exec(logs)!.slice(1).map(Number);
  t.is(inside, 0);
  t.true((outside ?? 0) >= 1_000_000, `mapped to host uid ${outside}`);
});

test.serial(
  "bind mounts: rw writes reach the host, :ro refuses writes, a missing host path is refused",
  async (t) => {
    const { d } = t.context;
    const host = join(d.dir, "shared");
    mkdirSync(host);
    writeFileSync(join(host, "hello"), "from the host\n");
    await d.run({ name: "bind", cmd: SLEEP, volumes: [`${host}:/data`, `${host}:/ro:ro`] });
    t.is((await d.exec("bind", ["cat", "/ro/hello"])).stdout, "from the host\n");
    t.is((await d.exec("bind", ["sh", "-c", "echo back > /data/out"])).exitCode, 0);
    t.is(readFileSync(join(host, "out"), "utf8"), "back\n");
    const ro = await d.exec("bind", ["touch", "/ro/x"]);
    t.not(ro.exitCode, 0);
    t.regex(ro.stderr, /Read-only file system/);
    const err = await t.throwsAsync(
      d.run({ name: "bind-missing", cmd: SLEEP, volumes: [`${host}/nope:/x`] }),
    );
    t.regex(err?.message ?? "", /-v .*does not exist/);
  },
);

test.serial("a named volume outlives its container and is refused removal while in use", async (t) => {
  const { d } = t.context;
  await d.run({
    name: "vol-a",
    cmd: ["sh", "-c", "echo persisted > /data/f; exec sleep 300"],
    volumes: ["wtvol:/data"],
  });
  await d.until("the file in the volume", async () =>
    (await d.exec("vol-a", ["cat", "/data/f"])).stdout === "persisted\n" ? true : undefined,
  );
  await d.client.call("DELETE", "/containers/vol-a?force=1");
  await d.run({ name: "vol-b", cmd: SLEEP, volumes: ["wtvol:/data"] });
  t.is((await d.exec("vol-b", ["cat", "/data/f"])).stdout, "persisted\n");
  const ls = await d.client.json<{ Volumes: Array<{ name: string; usedBy: string[] }> }>("GET", "/volumes");
  t.deepEqual(
    ls.Volumes.map((v) => [v.name, v.usedBy]),
    [["wtvol", ["vol-b"]]],
  );
  const inUse = await t.throwsAsync(d.client.call("DELETE", "/volumes/wtvol"));
  t.is((inUse as unknown as { status: number }).status, 409);
  await d.client.call("DELETE", "/containers/vol-b?force=1");
  await d.client.call("DELETE", "/volumes/wtvol");
  t.deepEqual((await d.client.json<{ Volumes: unknown[] }>("GET", "/volumes")).Volumes, []);
});

test.serial("--rm removes the container once its app exits", async (t) => {
  const { d } = t.context;
  const c = await d.run({ name: "ephemeral", cmd: ["true"], autoRemove: true });
  await d.until("the --rm container to be removed", async () => {
    const all = await d.client.json<ContainerState[]>("GET", "/containers/json?all=1");
    return all.some((x) => x.id === c.id) ? undefined : true;
  });
  t.pass();
});

test.serial("stats: memory against the limit, pids, cpu of a busy loop, network bytes sent", async (t) => {
  const { d } = t.context;
  const c = await d.run({
    name: "busy",
    cmd: ["sh", "-c", "while :; do :; done"],
    memoryBytes: 64 * 1024 * 1024,
    cpuShares: 512,
  });
  // --cpu-shares reaches the kernel (v1 here: cpu.shares; runc writes cpu.weight on v2).
  const sharesFiles = readdirSync("/sys/fs/cgroup")
    .map((h) => join("/sys/fs/cgroup", h, c.cgroupPath, "cpu.shares"))
    .filter((f) => existsSync(f));
  const weightFile = join("/sys/fs/cgroup", c.cgroupPath, "cpu.weight");
  if (sharesFiles.length > 0) t.is(readFileSync(sharesFiles[0]!, "utf8").trim(), "512");
  else t.true(existsSync(weightFile), "a cpu.shares or cpu.weight file");
  t.is((await d.exec("busy", ["ping", "-c", "3", "-i", "0.2", "-W", "2", c.gateway])).exitCode, 0);
  const s = await d.client.json<ContainerStats>("GET", "/containers/busy/stats");
  t.is(s.memoryLimitBytes, 64 * 1024 * 1024);
  t.true(s.memoryBytes > 0 && s.memoryBytes < s.memoryLimitBytes, `memory ${s.memoryBytes}`);
  t.true(s.pids >= 1, `pids ${s.pids}`);
  t.true(s.cpuPercent > 5, `a busy loop shows CPU use, got ${s.cpuPercent}%`);
  t.true(s.netTxBytes >= 3 * 84, `the pings went out: ${s.netTxBytes} bytes sent`);
  t.true(s.netRxBytes >= 3 * 84, `the replies came back: ${s.netRxBytes} bytes received`);
});

test.serial("a container over --memory is OOM-killed and reported as such (137, OOMKilled)", async (t) => {
  const { d } = t.context;
  // tail keeps the "last line" of an endless file without newlines in memory: it grows until killed.
  await d.run({ name: "hog", cmd: ["tail", "/dev/zero"], memoryBytes: 16 * 1024 * 1024 });
  const state = await d.until("OOMKilled in inspect", async () => {
    const s = await d.client.json<ContainerState>("GET", "/containers/hog/json");
    return s.oomKilled ? s : undefined;
  });
  t.is(state.status, "exited");
  t.is(state.exitCode, 137);
});
