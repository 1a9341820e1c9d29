// The lifecycle against the real runc, conmon and kernel, with the daemon as its own process (from
// the sources), SIGKILLed and started again: apps keep running under their monitors, are adopted, and
// exits that happened while no daemon ran are known. No sidecars (no control plane here).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import test from "ava";
import { packageRoot } from "../cli/index";
import { EngineClient } from "../runtime/src/api/client";
import { FrameReader } from "../runtime/src/api/exec-stream";
import { busyboxTarball, removeDaemonLeftovers, sh } from "../runtime/src/engine/real-daemon.testing";
import type { ContainerState, EngineEvent } from "../runtime/src/engine/types";
import { freeTestSubnet } from "../runtime/src/network/testing";
import { waitFor } from "./support/processes";

const suffix = randomBytes(4).toString("hex");
const dir = mkdtempSync(join(tmpdir(), "wt-life-"));
const stateDir = join(dir, "state");
const socket = join(dir, "weft.sock");
const bridge = `wtl${suffix}`;
const cgroupParent = `weft-test-${suffix}`;
const subnet = await freeTestSubnet("10.252");
const client = new EngineClient(socket);
let daemon: ChildProcess | undefined;

/** `weft daemon` from the sources, as its own process; resolves once it says it is ready. */
function startDaemon(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(packageRoot(), "cli", "main.ts"),
      "daemon",
      "--state-dir",
      stateDir,
      "--socket",
      socket,
      "--bridge",
      bridge,
      "--subnet",
      subnet,
      "--control-plane",
      `unix://${join(dir, "no-cp.sock")}`,
      "--node",
      "test-node",
      "--cgroup-parent",
      cgroupParent,
      "--log-max-size",
      "64k",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes("weft daemon ready")) resolve(child);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`daemon exited with ${code}:\n${out}`)));
  });
}

function sigkill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners("exit");
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

const run = (body: Record<string, unknown>, query = "") =>
  client.json<ContainerState>("POST", `/containers/create${query}`, {
    image: "busybox",
    sidecar: false,
    ...body,
  });
const inspect = (name: string) => client.json<ContainerState>("GET", `/containers/${name}/json`);

async function logs(
  name: string,
  query = "",
): Promise<Array<{ stream: string; time: string; line: string }>> {
  const body = (await client.call("GET", `/containers/${name}/logs?format=json${query}`)).body;
  return body
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { stream: string; time: string; line: string });
}

test.before(async () => {
  daemon = await startDaemon();
  await client.call("POST", "/images/import?name=busybox", { path: busyboxTarball(dir) });
});

test.after.always(async () => {
  const all = await client.json<ContainerState[]>("GET", "/containers/json?all=1").catch(() => []);
  for (const c of all) await client.call("DELETE", `/containers/${c.id}?force=1`).catch(() => undefined);
  if (daemon) await sigkill(daemon);
  await removeDaemonLeftovers({ stateDir, bridge, cgroupParent });
  rmSync(dir, { recursive: true, force: true });
});

test.serial("exit codes, wait, and the monitor's log split by stream with timestamps", async (t) => {
  await run({ name: "job", cmd: ["sh", "-c", "echo out; echo err >&2; printf partial; exit 3"] });
  const waited = await client.json<{ exitCode: number }>("POST", "/containers/job/wait");
  t.is(waited.exitCode, 3);
  t.like(await inspect("job"), { status: "exited", exitCode: 3 });
  const entries = await logs("job");
  // Two pipes: the order between stdout and stderr is not kept, the order within each is.
  const of = (stream: string) => entries.filter((e) => e.stream === stream).map((e) => e.line);
  t.deepEqual(of("stdout"), ["out\n", "partial"]);
  t.deepEqual(of("stderr"), ["err\n"]);
  t.regex(entries[0]!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  t.is((await logs("job", "&tail=3")).length, 3);
  t.is((await client.call("GET", "/containers/job/logs?stdout=1&stderr=0")).body, "out\npartial");
  t.is((await client.call("GET", "/containers/job/logs?stdout=0&stderr=1")).body, "err\n");
  // runc keeps nothing of an exited app.
  t.false(sh("runc", ["--root", join(stateDir, "runc"), "list", "-q"]).includes((await inspect("job")).id));
});

test.serial("logs follow: lines arrive while the app runs and the stream ends when it exits", async (t) => {
  await run({
    name: "talker",
    cmd: ["sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.3; done; exit 0"],
  });
  const res = await client.stream("GET", "/containers/talker/logs?format=json&follow=1");
  let text = "";
  for await (const chunk of res) text += (chunk as Buffer).toString();
  t.deepEqual(
    text
      .split("\n")
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { line: string }).line),
    ["line 1\n", "line 2\n", "line 3\n"],
  );
  t.like(await inspect("talker"), { status: "exited", exitCode: 0 });
});

test.serial("-t gives the app a terminal; the log is truncated past --log-max-size", async (t) => {
  await run({ name: "tty", tty: true, cmd: ["sh", "-c", "[ -t 1 ] && echo is-a-tty"] });
  await client.json("POST", "/containers/tty/wait");
  t.deepEqual(
    (await logs("tty")).map((e) => [e.stream, e.line]),
    [["stdout", "is-a-tty\r\n"]],
  );
  // 4000 lines of 100 bytes: about 400 KiB through a 64 KiB limit.
  const big = await run({
    name: "big",
    cmd: ["sh", "-c", "i=0; while [ $i -lt 4000 ]; do printf '%099d\\n' $i; i=$((i+1)); done; echo last"],
  });
  await client.json("POST", "/containers/big/wait");
  const size = statSync(join(stateDir, "containers", big.id, "ctr.log")).size;
  t.true(size <= 128 * 1024, `ctr.log is ${size} bytes`);
  t.is((await logs("big", "&tail=1"))[0]?.line, "last\n");
});

test.serial(
  "a command missing from the image fails the run with runc's reason and leaves nothing",
  async (t) => {
    const err = await t.throwsAsync(run({ name: "broken", cmd: ["/no/such/binary"] }));
    t.regex(err!.message, /no such file|not found/);
    t.regex(err!.message, /does not exist in the image/);
    await t.throwsAsync(inspect("broken"), { message: /no such container/ });
    t.is(sh("runc", ["--root", join(stateDir, "runc"), "list", "-q"]).trim(), "");
  },
);

test.serial(
  "exec streams: stdin in, framed output out, the exit code last; -t gives a terminal",
  async (t) => {
    await run({ name: "box", cmd: ["sleep", "300"] });
    const exec = async (query: string, input?: string) => {
      const body = input === undefined ? undefined : Readable.from([Buffer.from(input)]);
      const res = await client.duplex("POST", `/containers/box/exec/stream?${query}`, body);
      const frames = new FrameReader();
      const out: Record<number, string> = { 1: "", 2: "", 3: "" };
      for await (const chunk of res)
        for (const f of frames.push(chunk as Buffer)) out[f.stream] += f.payload.toString();
      return out;
    };
    const script = (s: string) => `cmd=sh&cmd=-c&cmd=${encodeURIComponent(s)}`;
    t.deepEqual(await exec(`${script("cat; echo err >&2; exit 6")}&interactive=1`, "piped\n"), {
      1: "piped\n",
      2: "err\n",
      3: "6",
    });
    const tty = await exec(`${script("[ -t 0 ] && echo tty")}&tty=1`);
    t.is(tty[1]!.trim(), "tty");
    t.is(tty[3], "0");
    await client.call("DELETE", "/containers/box?force=1");
  },
);

test.serial("create does not run; start, kill, restart, and a restart policy with backoff", async (t) => {
  const c = await run({ name: "later", cmd: ["sleep", "300"] }, "?start=0");
  t.is(c.status, "created");
  t.is((await client.json<ContainerState>("POST", "/containers/later/start")).status, "running");
  const pid = (await inspect("later")).pid;
  await client.call("POST", "/containers/later/restart?t=0");
  const after = await inspect("later");
  t.is(after.status, "running");
  t.not(after.pid, pid);
  await client.call("POST", "/containers/later/kill?signal=SIGKILL");
  t.is((await client.json<{ exitCode: number }>("POST", "/containers/later/wait")).exitCode, 137);

  await run({ name: "crashy", cmd: ["sh", "-c", "echo try; exit 1"], restart: "on-failure:2" });
  const final = await waitFor("on-failure to give up", async () => {
    const s = await inspect("crashy");
    return s.status === "exited" && s.restartCount === 2 ? s : undefined;
  });
  t.is(final.exitCode, 1);
  t.is((await logs("crashy")).length, 3, "three runs, one log");
});

test.serial(
  "a SIGKILLed daemon: running apps keep running and are adopted; exits meanwhile are known",
  async (t) => {
    const long = await run({
      name: "long",
      // As PID 1, sh ignores SIGTERM unless it traps it.
      cmd: [
        "sh",
        "-c",
        "trap 'echo bye; exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done",
      ],
    });
    const dies = await run({ name: "dies", cmd: ["sh", "-c", "sleep 1; exit 5"] });
    const svc = await run({ name: "svc", cmd: ["sh", "-c", "sleep 1; exit 9"], restart: "always" });
    // Half-made: a container whose create was under way when the daemon died.
    const half = await run({ name: "half", cmd: ["sleep", "300"] }, "?start=0");
    writeFileSync(join(stateDir, "containers", half.id, "creating"), "");
    const since = new Date().toISOString();

    await sigkill(daemon!);
    // While no daemon runs: the job ends (its monitor records the code), the long one keeps logging.
    await waitFor("the monitor's exit file", async () =>
      existsSync(join(stateDir, "containers", dies.id, "exit", dies.id)) ? true : undefined,
    );
    const logFile = join(stateDir, "containers", long.id, "ctr.log");
    const linesBefore = readFileSync(logFile, "utf8").split("\n").length;
    await waitFor("logging without a daemon", async () =>
      readFileSync(logFile, "utf8").split("\n").length > linesBefore + 2 ? true : undefined,
    );

    daemon = await startDaemon();
    const adopted = await inspect("long");
    t.like(adopted, { status: "running", pid: long.pid });
    t.like(await inspect("dies"), { status: "exited", exitCode: 5 });
    await t.throwsAsync(inspect("half"), { message: /no such container/ });
    t.false(sh("ip", ["netns", "list"]).includes(`weft-${half.id.slice(0, 12)}`));
    // The restart policy carries on: the "always" app that died meanwhile runs again.
    await waitFor("svc restarted", async () => ((await inspect("svc")).restartCount ?? 0) >= 1 || undefined);
    t.not((await inspect("svc")).id, undefined);
    void svc;

    // The adopted app's exit is noticed, and its logs continue.
    const n = (await logs("long")).length;
    await waitFor("more log lines", async () => ((await logs("long")).length > n ? true : undefined));
    await client.call("POST", "/containers/long/stop?t=30");
    t.is((await inspect("long")).exitCode, 0);
    t.is((await logs("long", "&tail=1"))[0]?.line, "bye\n");

    const events = (
      await client.call(
        "GET",
        `/weft/v1/events?since=${encodeURIComponent(since)}&until=${encodeURIComponent(new Date().toISOString())}`,
      )
    ).body
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as EngineEvent);
    t.true(events.some((e) => e.action === "stop" && e.attributes.name === "long"));
  },
);
