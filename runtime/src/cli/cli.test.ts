import { join } from "node:path";
import test from "ava";
import { startFakeDaemon, weftCli } from "./testing";

test("run prints the id; ps shows the table; exec exits with the command's code; rm; a missing daemon is named", async (t) => {
  const { dir, host } = await startFakeDaemon(t);

  const run = await weftCli([
    "run",
    "-d",
    "--name",
    "web",
    "--service",
    "web",
    "--port",
    "8080/http",
    "--port",
    "9000",
    "--label",
    "version=v1",
    "--memory",
    "64m",
    "--host",
    host,
    "busybox",
    "sleep",
    "300",
  ]);
  t.is(run.stderr, "");
  t.regex(run.stdout, /^[0-9a-f]{64}\n$/);

  const ps = await weftCli(["ps"], { WEFT_HOST: host });
  const lines = ps.stdout.trimEnd().split("\n");
  t.regex(lines[0]!, /^CONTAINER ID\s+NAME\s+IMAGE\s+STATUS\s+IP\s+SERVICE\s+PORTS$/);
  t.regex(
    lines[1]!,
    new RegExp(
      `^${run.stdout.slice(0, 12)}\\s+web\\s+busybox\\s+Up \\d+ seconds?\\s+10\\.9\\.0\\.\\d+\\s+web\\s+8080/http, 9000/auto$`,
    ),
  );

  const exec = await weftCli(["exec", "--host", host, "web", "sh", "-c", "echo out; echo err >&2; exit 5"]);
  t.deepEqual(exec, { code: 5, stdout: "out\n", stderr: "err\n" });

  const dup = await weftCli(["run", "--host", host, "--name", "web", "busybox"]);
  t.is(dup.code, 125, "docker run's code for its own failure");
  t.is(
    dup.stderr,
    `weft run: container name "web" is already in use; remove it with 'weft rm web' or choose another --name\n`,
  );

  const inspect = JSON.parse((await weftCli(["inspect", "--host", host, "web"])).stdout) as Record<
    string,
    unknown
  >;
  t.like(inspect, {
    name: "web",
    service: "web",
    status: "running",
    labels: { version: "v1" },
    memoryBytes: 64 * 1024 * 1024,
  });

  t.is((await weftCli(["rm", "-f", "--host", host, "web"])).stdout, "web\n");
  t.is((await weftCli(["ps", "-a", "--json", "--host", host])).stdout, "[]\n");

  const away = await weftCli(["ps", "--host", `unix://${join(dir, "nothing.sock")}`]);
  t.is(away.code, 1);
  t.is(
    away.stderr,
    `weft ps: cannot reach the weft daemon at ${join(dir, "nothing.sock")}; start it with 'weft daemon'\n`,
  );
});
