// The lifecycle verbs as a user types them: create, start, kill, wait, restart, logs, events, against
// a daemon API over fake parts (exits come from the fake monitor).
import { spawn } from "node:child_process";
import { join } from "node:path";
import test from "ava";
import { packageRoot } from "../../../cli/index";
import { startFakeDaemon, weftCli } from "./testing";

test("create, start, kill, wait, restart and events, with Docker's output", async (t) => {
  const { host, sys } = await startFakeDaemon(t);
  const created = await weftCli([
    "create",
    "--host",
    host,
    "--name",
    "web",
    "--restart",
    "on-failure:3",
    "busybox",
    "sleep",
    "300",
  ]);
  t.is(created.stderr, "");
  const id = created.stdout.trim();
  t.regex(id, /^[0-9a-f]{64}$/);
  t.regex((await weftCli(["ps", "-a", "--host", host])).stdout, /web\s+busybox\s+Created/);
  t.is((await weftCli(["start", "--host", host, "web"])).stdout, "web\n");
  t.regex((await weftCli(["ps", "--host", host])).stdout, /web\s+busybox\s+Up /);
  t.is((await weftCli(["kill", "--host", host, "-s", "SIGKILL", "web"])).stdout, "web\n");
  t.deepEqual(await weftCli(["wait", "--host", host, "web"]), { code: 0, stdout: "137\n", stderr: "" });
  t.deepEqual(sys.signals.get(id), ["SIGKILL"]);
  const again = await weftCli(["restart", "--host", host, "web"]);
  t.is(again.stdout, "web\n");
  const missing = await weftCli(["kill", "--host", host, "nope"]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /weft kill: no such container "nope"/);

  // 10m, not 1m: the tests of this file run side by side and, on a busy machine, take over a minute.
  const events = await weftCli(["events", "--host", host, "--since", "10m", "--until", "0s"]);
  t.is(events.code, 0);
  const actions = events.stdout
    .trim()
    .split("\n")
    .map((l) => l.split(" ")[2]);
  t.deepEqual(actions, ["create", "start", "kill", "die", "stop", "start", "restart"]);
  t.regex(events.stdout, new RegExp(`container create ${id} \\(image=busybox, name=web\\)`));
  const json = await weftCli([
    "events",
    "--host",
    host,
    "--since",
    "10m",
    "--until",
    "0s",
    "--json",
    "--container",
    "web",
  ]);
  t.like(JSON.parse(json.stdout.split("\n")[0]!), { type: "container", action: "create", id });
  // --filter, as docker events: one key's values are alternatives, keys all apply.
  const range = ["events", "--host", host, "--since", "10m", "--until", "0s"];
  const filtered = await weftCli([
    ...range,
    "--filter",
    "event=start",
    "-f",
    "event=die",
    "-f",
    "container=web",
  ]);
  t.deepEqual(
    filtered.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(" ")[2]),
    ["start", "die", "start"],
    filtered.stderr,
  );
  t.is((await weftCli([...range, "-f", "container=nope"])).stdout, "");
  const bad = await weftCli([...range, "--filter", "colour=red"]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /invalid filter "colour": filter by type, container, event, image, label, volume/);
});

test("logs flags are checked before the daemon is asked", async (t) => {
  const { host } = await startFakeDaemon(t);
  const bad = await weftCli(["logs", "--host", host, "--tail", "x", "web"]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--tail expects a number of lines or "all"/);
  const since = await weftCli(["logs", "--host", host, "--since", "yesterday", "web"]);
  t.regex(since.stderr, /--since expects a time/);
  const missing = await weftCli(["logs", "--host", host, "nope"]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /no such container "nope"/);
});

/** `weft ARGS` with `input` on its stdin. */
function weftWithInput(
  args: string[],
  input: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [
      "--import",
      "tsx",
      join(packageRoot(), "cli", "main.ts"),
      ...args,
    ]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    child.once("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

test("exec streams output and the exit code; -i sends stdin", async (t) => {
  const { host } = await startFakeDaemon(t);
  await weftCli(["run", "-d", "--host", host, "--name", "web", "busybox", "sleep", "300"]);
  t.deepEqual(await weftCli(["exec", "--host", host, "web", "sh", "-c", "echo out; echo err >&2; exit 4"]), {
    code: 4,
    stdout: "out\n",
    stderr: "err\n",
  });
  const piped = await weftWithInput(
    ["exec", "-i", "--host", host, "web", "sh", "-c", "cat; echo done"],
    "hello\n",
  );
  t.deepEqual(piped, { code: 0, stdout: "hello\ndone\n", stderr: "" });
  const missing = await weftCli(["exec", "--host", host, "nope", "true"]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /no such container "nope"/);
});

test("pause and unpause: ps shows (Paused), status=paused finds it, a second pause is refused", async (t) => {
  const { host } = await startFakeDaemon(t);
  const weft = (...args: string[]) => weftCli(args, { WEFT_HOST: host });
  t.is((await weft("run", "-d", "--name", "web", "busybox", "sleep", "300")).stderr, "");
  t.is((await weft("pause", "web")).stdout, "web\n");
  t.regex((await weft("ps")).stdout, /web\s+busybox\s+Up .* \(Paused\)/);
  t.is((await weft("ps", "-q", "-f", "status=paused")).stdout.split("\n").filter(Boolean).length, 1);
  t.is((await weft("ps", "-q", "-f", "status=running")).stdout, "");
  const again = await weft("pause", "web");
  t.is(again.code, 1);
  t.regex(again.stderr, /weft pause: container "web" is already paused/);
  t.is((await weft("unpause", "web")).stdout, "web\n");
  t.regex((await weft("ps")).stdout, /web\s+busybox\s+Up [^(]*$/m);
  t.regex((await weft("unpause", "web")).stderr, /weft unpause: container "web" is not paused/);
});
