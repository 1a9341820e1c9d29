import test from "ava";
import type { ContainerState } from "../engine/types";
import { statusText } from "./ps";
import { binarySize, decimalSize, statsRow } from "./stats";
import { startFakeDaemon, weftCli } from "./testing";

test("run flags reach the container; volume ls/create/rm; stats --no-stream and --json", async (t) => {
  const { host } = await startFakeDaemon(t);

  const run = await weftCli([
    "run",
    "-d",
    "--host",
    host,
    "--name",
    "web",
    "--no-sidecar",
    "-u",
    "1000:1000",
    "-w",
    "/srv",
    "--entrypoint",
    "/bin/sh",
    "--hostname",
    "box",
    "-v",
    "cache:/cache:ro",
    "--read-only",
    "--cap-add",
    "net_admin",
    "--cap-drop",
    "NET_RAW",
    "--security-opt",
    "seccomp=unconfined",
    "--memory",
    "64m",
    "busybox",
    "-c",
    "sleep 300",
  ]);
  t.is(run.stderr, "");
  const c = JSON.parse((await weftCli(["inspect", "--host", host, "web"])).stdout) as ContainerState;
  t.like(c, {
    uid: 1000,
    gid: 1000,
    workdir: "/srv",
    hostname: "box",
    readOnly: true,
    seccomp: "unconfined",
    cmd: ["/bin/sh", "-c", "sleep 300"],
    mounts: [{ type: "volume", source: "cache", destination: "/cache", readonly: true }],
  });
  t.true(c.capabilities?.includes("CAP_NET_ADMIN"));
  t.false(c.capabilities?.includes("CAP_NET_RAW"));

  const badV = await weftCli(["run", "--host", host, "-v", "rel/path:/x", "busybox"]);
  t.is(badV.code, 2);
  t.regex(badV.stderr, /-v "rel\/path:\/x": "rel\/path" is neither an absolute host path/);
  const badCap = await weftCli(["run", "--host", host, "--cap-add", "fly", "busybox", "true"]);
  t.regex(badCap.stderr, /--cap-add: unknown capability "fly"/);

  t.regex(
    (await weftCli(["volume", "ls", "--host", host])).stdout,
    /^cache\s+\S+\/volumes\/cache\/_data\s+web$/m,
  );
  t.is((await weftCli(["volume", "create", "--host", host, "spare"])).stdout, "spare\n");
  const busy = await weftCli(["volume", "rm", "--host", host, "cache", "spare"]);
  t.is(busy.code, 1);
  t.is(busy.stdout, "spare\n");
  t.regex(busy.stderr, /volume "cache" is in use by container\(s\) web/);

  const table = await weftCli(["stats", "--no-stream", "--host", host]);
  t.regex(table.stdout, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+PIDS$/m);
  t.regex(table.stdout, /web\s+\d+\.\d\d%\s+8MiB \/ 64MiB\s+12\.50%\s+1kB \/ 2kB\s+2$/m);
  const json = JSON.parse((await weftCli(["stats", "--json", "--host", host, "web"])).stdout) as unknown[];
  t.like(json[0], { name: "web", memoryLimitBytes: 64 * 1024 * 1024 });
});

test("ps shows an OOM kill as Docker does; sizes print in Docker's units", (t) => {
  const now = new Date("2026-01-01T00:00:10Z");
  const base = { status: "exited", finishedAt: "2026-01-01T00:00:05Z" } as ContainerState;
  t.is(
    statusText({ ...base, exitCode: 137, oomKilled: true }, now),
    "Exited (137) 5 seconds ago (OOMKilled)",
  );
  t.is(statusText(base, now), "Exited 5 seconds ago");
  t.is(binarySize(16 * 1024 * 1024), "16MiB");
  t.is(binarySize(1.5 * 1024 * 1024), "1.5MiB");
  t.is(binarySize(512), "512B");
  t.is(decimalSize(1500), "1.5kB");
  t.deepEqual(
    statsRow({
      id: "a".repeat(64),
      name: "x",
      cpuPercent: 12.345,
      cpuUsageNs: 1,
      memoryBytes: 1024 * 1024,
      memoryLimitBytes: 4 * 1024 * 1024,
      memoryPercent: 25,
      netRxBytes: 0,
      netTxBytes: 2_000_000,
      pids: 3,
      read: "",
    }),
    ["aaaaaaaaaaaa", "x", "12.35%", "1MiB / 4MiB", "25.00%", "0B / 2MB", "3"],
  );
});
