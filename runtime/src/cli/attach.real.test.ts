// `weft run -i`, `weft run -it` and `weft attach` against the real runc, conmon and socat: input
// reaches the app through its monitor, the end of piped input ends a `run -i` app's input, a -t app
// has a terminal of the client's size, and the detach keys leave an app running.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import anyTest, { type TestFn } from "ava";
import { packageRoot } from "../../../cli/index";
import { type RealDaemon, startRealDaemon } from "../engine/real-daemon.testing";
import type { ContainerState } from "../engine/types";
import { resizeConsole } from "../oci/conmon";
import { ptySession } from "./pty.testing";

const test = anyTest as TestFn<{ daemon: RealDaemon; env: NodeJS.ProcessEnv }>;

const WEFT = [process.execPath, "--import", "tsx", join(packageRoot(), "cli", "main.ts")];

test.before(async (t) => {
  const daemon = await startRealDaemon();
  const env = { ...process.env, WEFT_HOST: `unix://${join(daemon.dir, "run", "weft.sock")}`, TERM: "xterm" };
  t.context = { daemon, env };
});

test.after.always(async (t) => {
  await t.context.daemon?.close();
});

function weft(
  env: NodeJS.ProcessEnv,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      WEFT[0]!,
      [...WEFT.slice(1), ...args],
      { env, timeout: 90_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

function commandLine(args: string[]): string {
  return [...WEFT, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
}

/** `weft ARGS` with its stdin a pipe we write to and its output collected. */
function weftProcess(env: NodeJS.ProcessEnv, args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn(WEFT[0]!, [...WEFT.slice(1), ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  return { child, out: () => out };
}

function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
}

test.serial(
  "run -i: piped input reaches the app, its end is the app's EOF, the exit code comes back; a failed start leaves nothing",
  async (t) => {
    const { env, daemon } = t.context;
    const name = unique("wi");
    const cat = await weft(
      env,
      ["run", "-i", "--rm", "--name", name, "--no-sidecar", "busybox", "cat"],
      "hello\n",
    );
    t.is(cat.stdout, "hello\n", cat.stderr);
    t.is(cat.code, 0);
    const sh = await weft(
      env,
      ["run", "-i", "--rm", "--no-sidecar", "busybox", "sh", "-c", "cat; echo after-eof >&2; exit 3"],
      "a\nb\n",
    );
    t.is(sh.stdout, "a\nb\n");
    t.is(sh.stderr, "after-eof\n");
    t.is(sh.code, 3);
    // --rm: gone once done.
    await daemon.until("the --rm container to go", async () => {
      const all = await daemon.client.json<ContainerState[]>("GET", "/containers/json?all=1");
      return all.some((c) => c.name === name) ? undefined : true;
    });
    // A start that fails says why and leaves no container behind.
    const bad = unique("wb");
    const missing = await weft(env, ["run", "-i", "--name", bad, "--no-sidecar", "busybox", "/nope"], "x\n");
    t.is(missing.code, 127, "as docker run: the command was not found");
    t.regex(missing.stderr, /does not exist in the image|no such file/i);
    const all = await daemon.client.json<ContainerState[]>("GET", "/containers/json?all=1");
    t.false(all.some((c) => c.name === bad));
  },
);

test.serial(
  "run without -d stays attached as docker run does: output on its streams, the app's exit code; ctrl-c stops the app; create + start -a the same",
  async (t) => {
    const { env, daemon } = t.context;
    const name = unique("wa");
    const removeLater = (n: string) =>
      t.teardown(() => daemon.client.call("DELETE", `/containers/${n}?force=1`).catch(() => undefined));
    removeLater(name);
    // No stdin is taken: weft's own input stays open, and the run still ends with the app.
    const run = await weft(env, [
      "run",
      "--name",
      name,
      "--no-sidecar",
      "busybox",
      "sh",
      "-c",
      "echo out; sleep 0.2; echo err >&2; exit 4",
    ]);
    t.deepEqual(run, { code: 4, stdout: "out\n", stderr: "err\n" });
    // Without --rm it stays, exited, as docker's does.
    const state = await daemon.client.json<ContainerState>("GET", `/containers/${name}/json`);
    t.is(state.status, "exited");
    t.is(state.exitCode, 4);

    // docker run's exit codes when it cannot run the app: 126 not executable, 125 weft's own failure.
    const directory = await weft(env, ["run", "--rm", "--no-sidecar", "busybox", "/bin"]);
    t.is(directory.code, 126, directory.stderr);
    t.regex(directory.stderr, /not executable in the image/);
    const noImage = await weft(env, ["run", "--rm", "--no-sidecar", "no-such-image-here"]);
    t.is(noImage.code, 125, noImage.stderr);
    t.regex(noImage.stderr, /no-such-image-here/);

    // -d: the id, at once, while the app still runs.
    const bg = unique("wd");
    removeLater(bg);
    const detached = await weft(env, ["run", "-d", "--name", bg, "--no-sidecar", "busybox", "sleep", "300"]);
    t.regex(detached.stdout, /^[0-9a-f]{64}\n$/, detached.stderr);
    t.is((await daemon.client.json<ContainerState>("GET", `/containers/${bg}/json`)).status, "running");

    // SIGINT to an attached weft (ctrl-c in a terminal) reaches the app, whose trap answers it.
    const trapped = weftProcess(env, [
      ...["run", "--rm", "--no-sidecar", "busybox", "sh", "-c"],
      "trap 'echo got-int; exit 130' INT; echo ready; while true; do sleep 0.1; done",
    ]);
    const exited = new Promise<number | null>((resolve) => trapped.child.once("close", resolve));
    await daemon.until("the trapping app to be ready", async () =>
      trapped.out().includes("ready") ? true : undefined,
    );
    trapped.child.kill("SIGINT");
    t.is(await exited, 130);
    t.is(trapped.out(), "ready\ngot-int\n");

    // create, then start -a: attached from the app's first line.
    const made = unique("wc");
    removeLater(made);
    const created = await weft(env, [
      "create",
      "--name",
      made,
      "--no-sidecar",
      "busybox",
      "sh",
      "-c",
      "echo first; exit 2",
    ]);
    t.regex(created.stdout, /^[0-9a-f]{64}\n$/, created.stderr);
    t.deepEqual(await weft(env, ["start", "-a", made]), { code: 2, stdout: "first\n", stderr: "" });
    const notInteractive = await weft(env, ["start", "-a", "-i", made]);
    t.is(notInteractive.code, 2);
    t.regex(notInteractive.stderr, /made without -i.*use -a alone/);
  },
);

test.serial("run -it: a shell on a terminal of the client's size, exit code passed through", async (t) => {
  const { env } = t.context;
  const pty = ptySession(commandLine(["run", "-it", "--rm", "--no-sidecar", "busybox", "sh"]), env, {
    rows: 33,
    cols: 101,
  });
  t.teardown(() => {
    pty.child.kill("SIGKILL");
  });
  await pty.waitFor(/# /);
  pty.type("tty; stty size; echo x-$((6*7)); exit 5\r");
  const out = await pty.waitFor(/x-42/);
  t.regex(out, /\/dev\/pts\/\d+/);
  t.regex(out, /33 101/);
  t.is(await pty.exited, 5);
});

test.serial("exec -it: a shell on a terminal of the client's size", async (t) => {
  const { env } = t.context;
  const name = unique("wx");
  const run = await weft(env, ["run", "-d", "--name", name, "--no-sidecar", "busybox", "sleep", "600"]);
  t.is(run.code, 0, run.stderr);
  t.teardown(() => weft(env, ["rm", "-f", name]).then(() => undefined));
  const pty = ptySession(commandLine(["exec", "-it", name, "sh"]), env, { rows: 29, cols: 97 });
  t.teardown(() => {
    pty.child.kill("SIGKILL");
  });
  pty.type("stty size; echo x-$((6*7)); exit 3\r");
  const out = await pty.waitFor(/x-42/);
  t.regex(out, /29 97/);
  t.is(await pty.exited, 3);
});

test.serial(
  "attach to a running -i app: input reaches it, shown once, and its stdin stays open",
  async (t) => {
    const { env, daemon } = t.context;
    const name = unique("wa");
    const loop = 'while read l; do echo "got $l"; done; echo eof';
    const run = await weft(env, [
      "run",
      "-d",
      "-i",
      "--name",
      name,
      "--no-sidecar",
      "busybox",
      "sh",
      "-c",
      loop,
    ]);
    t.is(run.code, 0, run.stderr);
    t.teardown(() => weft(env, ["rm", "-f", name]).then(() => undefined));

    const first = weftProcess(env, ["attach", name]);
    t.teardown(() => {
      first.child.kill("SIGKILL");
    });
    first.child.stdin?.write("one\n");
    await daemon.until("the app's answer", async () =>
      first.out().includes("got one\n") ? true : undefined,
    );
    first.child.stdin?.end("two\n");
    await daemon.until("the second answer", async () =>
      first.out().includes("got two\n") ? true : undefined,
    );
    t.is(first.out(), "got one\ngot two\n");
    first.child.kill("SIGKILL");

    // A -d -i app's stdin outlives an attach (not stdin-once): a second attach still reaches it.
    const second = weftProcess(env, ["attach", name]);
    t.teardown(() => {
      second.child.kill("SIGKILL");
    });
    second.child.stdin?.write("three\n");
    await daemon.until("the third answer", async () =>
      second.out().includes("got three\n") ? true : undefined,
    );
    const logs = await weft(env, ["logs", name]);
    t.is(logs.stdout, "got one\ngot two\ngot three\n");
    const state = await daemon.client.json<ContainerState>("GET", `/containers/${name}/json`);
    t.is(state.status, "running");
  },
);

test.serial(
  "attach to a -it shell: typed input runs, resize reaches its terminal, ctrl-p ctrl-q detaches",
  async (t) => {
    const { env, daemon } = t.context;
    const name = unique("wt");
    const run = await weft(env, ["run", "-d", "-it", "--name", name, "--no-sidecar", "busybox", "sh"]);
    t.is(run.code, 0, run.stderr);
    t.teardown(() => weft(env, ["rm", "-f", name]).then(() => undefined));

    const pty = ptySession(commandLine(["attach", name]), env, { rows: 21, cols: 71 });
    t.teardown(() => {
      pty.child.kill("SIGKILL");
    });
    // An attach shows output from now on (no prompt to wait for): typed again until the shell answers.
    const deadline = Date.now() + 60_000;
    let n = 0;
    while (!/in-\d+/.test(pty.output())) {
      if (Date.now() > deadline)
        throw new Error(`no answer from the shell; got ${JSON.stringify(pty.output())}`);
      n++;
      pty.type(`echo in-$((${n}+1000))\r`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // The attach sent its terminal's size.
    const size = await daemon.until("the terminal's size", async () => {
      const r = await daemon.exec(name, ["sh", "-c", "stty size </proc/1/fd/0"]);
      return r.stdout.trim() === "21 71" ? r.stdout.trim() : undefined;
    });
    t.is(size, "21 71");
    pty.type("\x10\x11");
    t.is(await pty.exited, 0);
    const state = await daemon.client.json<ContainerState>("GET", `/containers/${name}/json`);
    t.is(state.status, "running");

    // And through the API, as the CLI does on SIGWINCH.
    await daemon.client.call("POST", `/containers/${name}/resize?h=40&w=120`);
    const resized = await daemon.until("the new size", async () => {
      const r = await daemon.exec(name, ["sh", "-c", "stty size </proc/1/fd/0"]);
      return r.stdout.trim() === "40 120" ? r.stdout.trim() : undefined;
    });
    t.is(resized, "40 120");

    // Two sizes in a row, as `docker attach` sends them (one more row and column, then its own): both
    // reach the monitor's fifo before it reads, and the terminal ends at the second.
    const bundle = join(daemon.stateDir, "containers", state.id);
    for (let i = 0; i < 5; i++) {
      t.true(resizeConsole(bundle, 31 + i, 91));
      t.true(resizeConsole(bundle, 30 + i, 90));
      let last = "";
      await daemon
        .until(
          `the second of two sizes, ${30 + i} 90`,
          async () => {
            last = (await daemon.exec(name, ["sh", "-c", "stty size </proc/1/fd/0"])).stdout.trim();
            return last === `${30 + i} 90` ? last : undefined;
          },
          5_000,
        )
        .catch((err: Error) => {
          throw new Error(`${err.message}; stty said "${last}"`);
        });
    }
  },
);
