// The real docker CLI against a real weft daemon (runc, bridge, overlay, cgroups): what a user does
// with `docker -H unix://SOCKET ...`. The daemon has its own bridge, subnet, state dir and cgroup parent.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import anyTest, { type TestFn } from "ava";
import {
  DOCKER,
  type DockerCli,
  dockerCli,
  waitForOutput,
} from "../runtime/src/api/docker/docker-cli.testing";
import { ptySession } from "../runtime/src/cli/pty.testing";
import { weftCli } from "../runtime/src/cli/testing";
import { busyboxTarball, type RealDaemon, startRealDaemon } from "../runtime/src/engine/real-daemon.testing";
import { fromTar, tarFolder, writeDockerSave } from "../runtime/src/image/oci-fixture";

const test = anyTest as TestFn<{ daemon: RealDaemon; docker: DockerCli; archive: string }>;
const NO_SIDECAR = ["--label", "weft.sidecar=false"];

test.before(async (t) => {
  const daemon = await startRealDaemon();
  const docker = dockerCli(join(daemon.dir, "run", "weft.sock"));
  t.context = { daemon, docker, archive: "" };
  // A `docker save` archive of busybox, as `docker load` gets it.
  const src = join(daemon.dir, "docker-save-src");
  mkdirSync(src);
  const layer = fromTar(readFileSync(busyboxTarball(src)), false);
  const saved = writeDockerSave(join(daemon.dir, "saved"), [
    { tags: ["bbox:latest"], layers: [layer], config: { Cmd: ["sh"], Env: ["PATH=/bin"] } },
  ]);
  t.context = { daemon, docker, archive: tarFolder(saved, join(daemon.dir, "bbox.tar")) };
});

test.after.always(async (t) => {
  t.context.docker?.close();
  await t.context.daemon?.close();
});

test.serial("docker version and load -i a docker-save archive, then images", async (t) => {
  const { docker, archive } = t.context;
  const v = await docker.run(["version", "--format", "{{.Server.Platform.Name}}"]);
  t.is(v.stdout.trim(), "Weft", v.stderr);
  const load = await docker.run(["load", "-i", archive]);
  t.is(load.code, 0, load.stderr);
  t.is(load.stdout.trim(), "Loaded image: bbox:latest");
  const images = await docker.run(["images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}"]);
  t.regex(images.stdout, /^bbox latest [0-9a-f]{12}$/m);
  // One imported the weft way under a bare name is listed too: "busybox" is "busybox:latest".
  t.regex(images.stdout, /^busybox latest [0-9a-f]{12}$/m, images.stdout);
});

test.serial("run -d, ps, logs -f, exec, inspect, stats, stop, rm", async (t) => {
  const { docker } = t.context;
  const name = `dk${Date.now().toString(36)}`;
  const run = await docker.run([
    "run",
    "-d",
    "--name",
    name,
    ...NO_SIDECAR,
    "bbox",
    "sh",
    "-c",
    "echo started; while true; do echo tick; sleep 1; done",
  ]);
  t.is(run.code, 0, run.stderr);
  const ps = await docker.run(["ps", "--format", "{{.Names}} {{.Status}}"]);
  t.regex(ps.stdout, new RegExp(`^${name} Up `, "m"));

  const follow = docker.spawn(["logs", "-f", name]);
  t.teardown(() => {
    follow.kill();
  });
  t.regex(await waitForOutput(follow, /started\n(tick\n){2}/), /started/);

  const exec = await docker.run(["exec", name, "echo", "from exec"]);
  t.is(exec.stdout, "from exec\n", exec.stderr);
  t.is((await docker.run(["exec", name, "sh", "-c", "exit 3"])).code, 3);
  // A command runc cannot start exits as docker exec's does: 127 not found, 126 cannot run; the
  // reason is runc's own line, without its log prefix.
  const notFound = await docker.run(["exec", name, "nosuchcmd"]);
  t.is(notFound.code, 127, notFound.stderr);
  t.regex(
    notFound.stderr,
    /^exec failed: unable to start container process: exec: "nosuchcmd": executable file not found in \$PATH$/m,
  );
  t.notRegex(notFound.stderr, /level=error/);
  t.is((await docker.run(["exec", name, "/etc/passwd"])).code, 126);
  t.is((await docker.run(["exec", "-w", "/nonexistent", name, "pwd"])).code, 126);
  t.is((await docker.run(["exec", name, "sh", "-c", "exit 255"])).code, 255, "the command's own 255 stays");
  const piped = await docker.run(["exec", "-i", name, "cat"], { input: "via stdin\n" });
  t.is(piped.stdout, "via stdin\n", piped.stderr);

  const inspect = await docker.run([
    "inspect",
    "-f",
    "{{.State.Running}} {{.NetworkSettings.IPAddress}} {{.HostConfig.CpuQuota}} {{.HostConfig.ShmSize}}",
    name,
  ]);
  t.regex(inspect.stdout.trim(), /^true 10\.251\.\d+\.\d+ 0 67108864$/, inspect.stderr);
  const stats = await docker.run(["stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", name]);
  t.regex(stats.stdout.trim(), new RegExp(`^${name} \\d+$`), stats.stderr);

  const stop = await docker.run(["stop", "-t", "1", name]);
  t.is(stop.stdout.trim(), name, stop.stderr);
  const exited = await docker.run(["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
  t.regex(exited.stdout, new RegExp(`^${name} Exited \\(\\d+\\) `, "m"));
  t.is((await docker.run(["rm", name])).stdout.trim(), name);
  const gone = await docker.run(["rm", name]);
  t.regex(gone.stderr, new RegExp(`No such container: ${name}`));
});

test.serial("run in the foreground prints the output and exits with the app's code", async (t) => {
  const { docker } = t.context;
  const fg = await docker.run([
    "run",
    "--rm",
    ...NO_SIDECAR,
    "bbox",
    "sh",
    "-c",
    "echo out; echo err >&2; exit 4",
  ]);
  t.is(fg.stdout, "out\n");
  t.is(fg.stderr, "err\n");
  t.is(fg.code, 4);
  // -e NAME of a variable the CLI does not have: sent bare, left unset (it was a 400).
  const unset = await docker.run([
    "run",
    "--rm",
    ...NO_SIDECAR,
    "-e",
    "WEFT_TEST_NEVER_SET",
    "-e",
    "SET=1",
    "bbox",
    "sh",
    "-c",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's default-value form
    "echo ${WEFT_TEST_NEVER_SET-unset} $SET",
  ]);
  t.is(unset.stdout, "unset 1\n", unset.stderr);
});

test.serial("run -i with piped input: the app reads it to EOF and its exit code comes back", async (t) => {
  const { docker } = t.context;
  const cat = await docker.run(["run", "-i", "--rm", ...NO_SIDECAR, "bbox", "cat"], { input: "hello\n" });
  t.is(cat.stdout, "hello\n", cat.stderr);
  t.is(cat.code, 0);
  const sh = await docker.run(["run", "-i", "--rm", ...NO_SIDECAR, "bbox", "sh", "-c", "cat; exit 3"], {
    input: "a\nb\n",
  });
  t.is(sh.stdout, "a\nb\n", sh.stderr);
  t.is(sh.code, 3);
});

test.serial("run -it: a shell on a pty of the CLI's size", async (t) => {
  const { docker } = t.context;
  const pty = ptySession(
    docker.commandLine(["run", "-it", "--rm", ...NO_SIDECAR, "bbox", "sh"]),
    docker.env,
    {
      rows: 25,
      cols: 90,
    },
  );
  t.teardown(() => {
    pty.child.kill("SIGKILL");
  });
  await pty.waitFor(/# /);
  pty.type("tty; stty size; echo it-$((6*7)); exit 4\r");
  const out = await pty.waitFor(/it-42/);
  t.regex(out, /\/dev\/pts\/\d+/);
  t.regex(out, /25 90/);
  t.is(await pty.exited, 4);
});

test.serial(
  "attach to run -dit: typed input reaches the shell, ctrl-p ctrl-q leaves it running",
  async (t) => {
    const { docker, daemon } = t.context;
    const name = `dka${Date.now().toString(36)}`;
    const run = await docker.run(["run", "-dit", "--name", name, ...NO_SIDECAR, "bbox", "sh"]);
    t.is(run.code, 0, run.stderr);
    t.teardown(() => docker.run(["rm", "-f", name]).then(() => undefined));
    const pty = ptySession(docker.commandLine(["attach", name]), docker.env, { rows: 21, cols: 71 });
    t.teardown(() => {
      pty.child.kill("SIGKILL");
    });
    // An attach shows output from now on (no prompt to wait for): typed again until the shell answers.
    const deadline = Date.now() + 60_000;
    for (let n = 1; !/in-\d+/.test(pty.output()); n++) {
      if (Date.now() > deadline)
        throw new Error(`no answer from the shell; got ${JSON.stringify(pty.output())}`);
      pty.type(`echo in-$((${n}+1000))\r`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // The CLI sends the size at attach (first one more row and column, then its own).
    let last = "";
    const size = await daemon
      .until("the terminal's size", async () => {
        const r = await docker.run(["exec", name, "sh", "-c", "stty size </proc/1/fd/0"]);
        last = r.stdout + r.stderr;
        return r.stdout.trim() === "21 71" ? r.stdout.trim() : undefined;
      })
      .catch((err: Error) => {
        throw new Error(`${err.message}; stty said ${JSON.stringify(last)}`);
      });
    t.is(size, "21 71");
    pty.type("\x10\x11");
    await pty.exited;
    t.regex(pty.output(), /read escape sequence/);
    const ps = await docker.run(["ps", "--format", "{{.Names}} {{.Status}}"]);
    t.regex(ps.stdout, new RegExp(`^${name} Up `, "m"));
  },
);

test.serial("attach to run -di: piped input reaches the app, whose stdin stays open", async (t) => {
  const { docker, daemon } = t.context;
  const name = `dkd${Date.now().toString(36)}`;
  const loop = 'while read l; do echo "got $l"; done; echo eof';
  t.is((await docker.run(["run", "-di", "--name", name, ...NO_SIDECAR, "bbox", "sh", "-c", loop])).code, 0);
  t.teardown(() => docker.run(["rm", "-f", name]).then(() => undefined));
  const attach = spawn(DOCKER, ["-H", `unix://${join(daemon.dir, "run", "weft.sock")}`, "attach", name], {
    env: docker.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  t.teardown(() => {
    attach.kill("SIGKILL");
  });
  const answered = waitForOutput(attach, /got one\n/);
  attach.stdin.write("one\n");
  t.is(await answered, "got one\n");
  attach.kill("SIGKILL");
  const logs = await docker.run(["logs", name]);
  t.is(logs.stdout, "got one\n");
  const ps = await docker.run(["ps", "--format", "{{.Names}} {{.Status}}"]);
  t.regex(ps.stdout, new RegExp(`^${name} Up `, "m"));
});

test.serial("exec -it runs a shell on a pty", async (t) => {
  const { docker } = t.context;
  const name = `dkt${Date.now().toString(36)}`;
  const sleeper = await docker.run(["run", "-d", "--name", name, ...NO_SIDECAR, "bbox", "sleep", "600"]);
  t.is(sleeper.code, 0, sleeper.stderr);
  const ex = ptySession(docker.commandLine(["exec", "-it", name, "sh"]), docker.env, { rows: 27, cols: 95 });
  t.teardown(() => {
    ex.child.kill("SIGKILL");
  });
  // The shell reads its input from the terminal once it is up; what arrives earlier is buffered. The
  // terminal has the CLI's size (it had none: stty size failed, full-screen tools drew at 0x0).
  ex.type("stty size; echo ex-$((6*7)); exit 6\r");
  const out = await ex.waitFor(/ex-42/);
  t.regex(out, /27 95/);
  t.is(await ex.exited, 6);
  // -t without -i: a terminal with a type, and nothing typed into it (the end of the CLI's input
  // reached it as a NUL, printed ^@ before the output and read by the command).
  const tOnly = await docker.run([
    "exec",
    "-t",
    name,
    "sh",
    "-c",
    'echo "TERM=$TERM"; timeout 1 head -c 1 | od -An -c',
  ]);
  t.is(tOnly.stdout.split("\r\n")[0], "TERM=xterm", tOnly.stdout);
  t.notRegex(tOnly.stdout, /\\0|\^@/, "nothing was typed into the terminal");
  await docker.run(["rm", "-f", name]);
});

test.serial("exec -u -w -e run the command as that user, there, with that env", async (t) => {
  const { docker } = t.context;
  const name = `dke${Date.now().toString(36)}`;
  await docker.run(["run", "-d", "--name", name, ...NO_SIDECAR, "bbox", "sleep", "600"]);
  t.teardown(() => docker.run(["rm", "-f", name]).then(() => undefined));
  const r = await docker.run([
    "exec",
    "-u",
    "1000",
    "-w",
    "/tmp",
    "-e",
    "X=1",
    name,
    "sh",
    "-c",
    "id -u; pwd; echo $X",
  ]);
  t.is(r.stdout, "1000\n/tmp\n1\n", r.stderr);
});

test.serial("events, attach, logs --tail -t, restart, kill, wait", async (t) => {
  const { docker } = t.context;
  const name = `dkw${Date.now().toString(36)}`;
  const events = docker.spawn(["events", "--filter", `container=${name}`, "--format", "{{.Action}}"]);
  t.teardown(() => {
    events.kill();
  });
  const seen = waitForOutput(events, /start\n(.|\n)*die\n(.|\n)*start\n/);
  const loop = "i=0; while true; do i=$((i+1)); echo line$i; sleep 0.2; done";
  t.is((await docker.run(["run", "-d", "--name", name, ...NO_SIDECAR, "bbox", "sh", "-c", loop])).code, 0);
  t.teardown(() => docker.run(["rm", "-f", name]).then(() => undefined));

  const attach = docker.spawn(["attach", "--no-stdin", name]);
  t.teardown(() => {
    attach.kill();
  });
  t.regex(await waitForOutput(attach, /line\d+\n/), /line/);

  const tail = await docker.run(["logs", "--tail", "2", "-t", name]);
  const lines = tail.stdout.trim().split("\n");
  t.is(lines.length, 2, tail.stdout);
  for (const l of lines) t.regex(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line\d+$/);

  t.is((await docker.run(["restart", "-t", "1", name])).stdout.trim(), name);
  await seen;
  const waiting = docker.run(["wait", name]);
  t.is((await docker.run(["kill", name])).stdout.trim(), name);
  t.is((await waiting).stdout.trim(), "137");
  const again = await docker.run(["kill", name]);
  t.regex(again.stderr, /is not running/);
});

test.serial("a container shows the image name it was given; the store lists Docker's name", async (t) => {
  const { daemon, docker } = t.context;
  const name = `img${Date.now().toString(36)}`;
  const c = await daemon.run({ name, image: "busybox", cmd: ["sleep", "600"] });
  t.teardown(() => daemon.client.call("DELETE", `/containers/${name}?force=1`).catch(() => undefined));
  t.is(c.image, "busybox", "as written, as docker ps shows it");
  const ps = await docker.run(["ps", "--filter", `name=${name}`, "--format", "{{.Image}}"]);
  t.is(ps.stdout.trim(), "busybox", ps.stderr);
  // docker top: the app's process, from the host's ps.
  const top = await docker.run(["top", name]);
  t.regex(
    top.stdout,
    /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n\S+\s+\d+\s+.*\ssleep 600\n$/,
    top.stderr,
  );
  const ls = await docker.run(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
  t.regex(ls.stdout, new RegExp(`^busybox:latest ${c.imageId.slice(0, 12)}$`, "m"), ls.stdout);

  // The same through the docker CLI's create; ancestor= finds it by any name of the image.
  const viaDocker = `${name}d`;
  t.teardown(() => daemon.client.call("DELETE", `/containers/${viaDocker}?force=1`).catch(() => undefined));
  const run = await docker.run(["run", "-d", "--name", viaDocker, ...NO_SIDECAR, "busybox", "sleep", "600"]);
  t.is(run.code, 0, run.stderr);
  const listed = await docker.run(["ps", "--filter", `name=${viaDocker}`, "--format", "{{.Image}}"]);
  t.is(listed.stdout.trim(), "busybox", listed.stderr);
  const byAncestor = await docker.run([
    "ps",
    "--filter",
    "ancestor=busybox:latest",
    "--format",
    "{{.Names}}",
  ]);
  t.deepEqual(byAncestor.stdout.trim().split("\n").sort(), [name, viaDocker].sort(), byAncestor.stderr);
});

test.serial(
  "network ls and inspect show the bridge every container joins, with its real prefix",
  async (t) => {
    const { docker } = t.context;
    const ls = await docker.run(["network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"]);
    t.is(ls.stdout.trim(), "weft bridge local", ls.stderr);
    const name = `net${Date.now().toString(36)}`;
    const run = await docker.run(["run", "-d", "--name", name, ...NO_SIDECAR, "bbox", "sleep", "600"]);
    t.is(run.code, 0, run.stderr);
    t.teardown(() => docker.run(["rm", "-f", name]).then(() => undefined));
    const subnet = (
      await docker.run(["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "weft"])
    ).stdout.trim();
    const prefix = /^\d+\.\d+\.\d+\.\d+\/(\d+)$/.exec(subnet)?.[1];
    t.truthy(prefix, subnet);
    const members = await docker.run([
      "network",
      "inspect",
      "-f",
      "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{println}}{{end}}",
      "weft",
    ]);
    const address = (
      await docker.run([
        "inspect",
        "-f",
        "{{.NetworkSettings.IPAddress}}/{{.NetworkSettings.IPPrefixLen}}",
        name,
      ])
    ).stdout.trim();
    t.regex(members.stdout, new RegExp(`^${name} ${address.replaceAll(".", "\\.")}$`, "m"), members.stdout);
    // What the container's eth0 really has.
    const eth0 = await docker.run(["exec", name, "busybox", "ip", "-o", "-4", "addr", "show", "eth0"]);
    t.regex(eth0.stdout, new RegExp(`inet ${address.replaceAll(".", "\\.")} `), eth0.stdout + eth0.stderr);
    t.true(address.endsWith(`/${prefix}`));

    const rm = await docker.run(["network", "rm", "weft"]);
    t.regex(rm.stderr, /weft is a pre-defined network and cannot be removed/);
    const missing = await docker.run(["network", "inspect", "nope"]);
    t.regex(missing.stderr, /network nope not found/);
    // `docker inspect` of an unknown name looks among networks and volumes too, and finds nothing.
    const unknown = await docker.run(["inspect", "nope"]);
    t.regex(unknown.stderr, /No such object: nope/);
  },
);

test.serial(
  "network create, run --network with an alias, connect, disconnect; rm refused while in use",
  async (t) => {
    const { docker } = t.context;
    const net = `dn${Date.now().toString(36)}`;
    const name = `${net}c`;
    t.teardown(async () => {
      await docker.run(["rm", "-f", name]);
      await docker.run(["network", "rm", net, `${net}2`]);
    });
    const made = await docker.run(["network", "create", "--label", "team=shop", net]);
    t.is(made.code, 0, made.stderr);
    const id = made.stdout.trim();
    t.regex(id, /^[0-9a-f]{64}$/);
    const again = await docker.run(["network", "create", net]);
    t.regex(again.stderr, new RegExp(`network with name ${net} already exists`));
    const subnet = await docker.run(["network", "create", "--subnet", "10.99.0.0/24", `${net}x`]);
    t.not(subnet.code, 0);
    t.regex(subnet.stderr, /shares the bridge's subnet/);
    const ls = await docker.run([
      "network",
      "ls",
      "-f",
      "label=team=shop",
      "--format",
      "{{.Name}} {{.Driver}}",
    ]);
    t.is(ls.stdout.trim(), `${net} bridge`, ls.stderr);

    const run = await docker.run([
      ...["run", "-d", "--name", name, ...NO_SIDECAR],
      ...["--network", net, "--network-alias", "db", "bbox", "sleep", "600"],
    ]);
    t.is(run.code, 0, run.stderr);
    const entry = await docker.run([
      "inspect",
      "-f",
      `{{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.NetworkID}} {{$v.Aliases}}{{end}}`,
      name,
    ]);
    t.regex(entry.stdout.trim(), new RegExp(`^${net} ${net} ${id} \\[db [0-9a-f]{12}\\]$`), entry.stderr);
    const members = await docker.run([
      "network",
      "inspect",
      "-f",
      "{{range .Containers}}{{.Name}}{{end}}",
      net,
    ]);
    t.is(members.stdout.trim(), name);
    const ps = await docker.run(["ps", "-f", `network=${net}`, "--format", "{{.Names}}"]);
    t.is(ps.stdout.trim(), name);
    const inUse = await docker.run(["network", "rm", net]);
    t.not(inUse.code, 0);
    t.regex(inUse.stderr, new RegExp(`network ${net} has active endpoints \\(${name}\\)`));

    t.is((await docker.run(["network", "create", `${net}2`])).code, 0);
    const connect = await docker.run(["network", "connect", "--alias", "cache", `${net}2`, name]);
    t.is(connect.code, 0, connect.stderr);
    const both = await docker.run(["inspect", "-f", "{{len .NetworkSettings.Networks}}", name]);
    t.is(both.stdout.trim(), "2");
    t.is((await docker.run(["network", "disconnect", net, name])).code, 0);
    const after = await docker.run([
      "inspect",
      "-f",
      "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}",
      name,
    ]);
    t.is(after.stdout.trim(), `${net}2`);
    // A network no container is on goes with prune; the one in use stays.
    const pruned = await docker.run(["network", "prune", "-f"]);
    t.regex(pruned.stdout, new RegExp(`^${net}$`, "m"), pruned.stderr);
    t.is((await docker.run(["network", "inspect", `${net}2`])).code, 0);
    t.is((await docker.run(["rm", "-f", name])).code, 0);
    const rm = await docker.run(["network", "rm", `${net}2`]);
    t.is(rm.code, 0, rm.stderr);
    t.is((await docker.run(["network", "ls", "-q", "-f", `name=${net}`])).stdout.trim(), "");
  },
);

test.serial("volume create, ls, inspect, rm and prune; rm refused while a container uses it", async (t) => {
  const { docker } = t.context;
  const vol = `dv${Date.now().toString(36)}`;
  const made = await docker.run(["volume", "create", "--label", "team=mesh", vol]);
  t.is(made.stdout.trim(), vol, made.stderr);
  const ls = await docker.run(["volume", "ls", "--format", "{{.Driver}} {{.Name}}"]);
  t.regex(ls.stdout, new RegExp(`^local ${vol}$`, "m"), ls.stderr);
  const inspect = await docker.run(["volume", "inspect", "-f", "{{.Mountpoint}} {{json .Labels}}", vol]);
  t.regex(inspect.stdout.trim(), new RegExp(`/volumes/${vol}/_data {"team":"mesh"}$`), inspect.stderr);
  // Labels are kept and filtered on (they were dropped, and label= was an invalid filter).
  for (const [filter, listed] of [
    ["label=team", true],
    ["label=team=mesh", true],
    ["label=team=other", false],
    ["driver=local", true],
  ] as const) {
    const byLabel = await docker.run(["volume", "ls", "-q", "--filter", filter]);
    t.is(
      new RegExp(`^${vol}$`, "m").test(byLabel.stdout),
      listed,
      `${filter}: ${byLabel.stdout}${byLabel.stderr}`,
    );
  }

  const name = `dvc${Date.now().toString(36)}`;
  const run = await docker.run([
    "run",
    "-d",
    "--name",
    name,
    ...NO_SIDECAR,
    "-v",
    `${vol}:/data`,
    "bbox",
    "sleep",
    "600",
  ]);
  t.is(run.code, 0, run.stderr);
  const dangling = await docker.run(["volume", "ls", "-q", "-f", "dangling=true"]);
  t.notRegex(dangling.stdout, new RegExp(`^${vol}$`, "m"), "a volume a container uses is not dangling");
  const refused = await docker.run(["volume", "rm", vol]);
  t.not(refused.code, 0);
  t.regex(refused.stderr, new RegExp(`remove ${vol}: volume is in use - \\[${name}\\]`));
  // prune -a takes the volume no container uses, with its data, and leaves the one in use. Without
  // -a a client of API 1.42 or later asks for anonymous volumes only, and weft has none.
  const spare = `${vol}s`;
  t.is((await docker.run(["volume", "create", spare])).code, 0);
  const anonymous = await docker.run(["volume", "prune", "-f"]);
  t.is(anonymous.code, 0, anonymous.stderr);
  t.is((await docker.run(["volume", "inspect", spare])).code, 0, "plain prune leaves named volumes");
  const pruned = await docker.run(["volume", "prune", "-a", "-f"]);
  t.regex(pruned.stdout, new RegExp(`^Deleted Volumes:\n${spare}\n`), pruned.stderr);
  t.notRegex(pruned.stdout, new RegExp(`^${vol}$`, "m"));
  t.not((await docker.run(["volume", "inspect", spare])).code, 0);
  t.is((await docker.run(["volume", "inspect", vol])).code, 0);
  t.is((await docker.run(["rm", "-f", name])).code, 0);
  const rm = await docker.run(["volume", "rm", vol]);
  t.is(rm.stdout.trim(), vol, rm.stderr);
  const gone = await docker.run(["volume", "inspect", vol]);
  t.not(gone.code, 0);
  t.regex(gone.stderr, /no such volume/);
});

test.serial("image inspect, tag and rmi", async (t) => {
  const { docker } = t.context;
  const inspect = await docker.run([
    "image",
    "inspect",
    "-f",
    "{{.Os}} {{json .RepoTags}} {{json .Config.Cmd}}",
    "bbox",
  ]);
  t.is(inspect.stdout.trim(), 'linux ["bbox:latest"] ["sh"]', inspect.stderr);
  // docker history: the layer, under the image's id, with its size (it was a 405).
  const history = await docker.run(["history", "--format", "{{.ID}} {{.Size}}", "bbox"]);
  const id = (await docker.run(["image", "inspect", "-f", "{{.Id}}", "bbox"])).stdout.trim().slice(7, 19);
  t.regex(history.stdout, new RegExp(`^${id} [1-9][0-9.]*[kM]B\n$`), history.stderr);
  // docker tag: a second name for the same image; rmi of one name keeps the other's image.
  const tag = await docker.run(["tag", "bbox", "bbox:v2"]);
  t.is(tag.code, 0, tag.stderr);
  const tagged = await docker.run(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
  const idOf = (name: string) => new RegExp(`^${name} ([0-9a-f]{12})$`, "m").exec(tagged.stdout)?.[1];
  t.truthy(idOf("bbox:v2"), tagged.stdout);
  t.is(idOf("bbox:v2"), idOf("bbox:latest"));
  // docker images --filter (it listed every image whatever the filter).
  const filtered = async (...f: string[]) =>
    (
      await docker.run([
        "images",
        ...f.flatMap((x) => ["--filter", x]),
        "--format",
        "{{.Repository}}:{{.Tag}}",
      ])
    ).stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .sort();
  t.deepEqual(await filtered("reference=bbox"), ["bbox:latest", "bbox:v2"]);
  t.deepEqual(await filtered("reference=bbox:v*"), ["bbox:v2"], "only the names that match");
  t.deepEqual(await filtered("reference=docker.io/library/bb*"), ["bbox:latest", "bbox:v2"]);
  t.deepEqual(await filtered("reference=other"), []);
  t.deepEqual(await filtered("dangling=true"), [], "every weft image has a name");
  t.deepEqual(await filtered("reference=bbox", "dangling=false"), ["bbox:latest", "bbox:v2"]);
  t.deepEqual(await filtered("reference=bbox", "label=no.such.label"), []);
  const badFilter = await docker.run(["images", "--filter", "colour=red"]);
  t.regex(badFilter.stderr, /invalid filter 'colour'/);
  t.regex((await docker.run(["rmi", "bbox:v2"])).stdout, /^Untagged: bbox:v2\n$/);
  const rmi = await docker.run(["rmi", "bbox"]);
  t.regex(rmi.stdout, /Untagged: bbox:latest\nDeleted: sha256:[0-9a-f]{64}/, rmi.stderr);
  const images = await docker.run(["images", "--format", "{{.Repository}}"]);
  t.notRegex(images.stdout, /bbox/);
});

test.serial(
  "cp in and out of a running container and a stopped one: its root, a volume, --userns=auto",
  async (t) => {
    const { docker, daemon } = t.context;
    const weft = weftOn(daemon);
    const name = `dcp${Date.now().toString(36)}`;
    const vol = `${name}v`;
    t.teardown(async () => {
      await docker.run(["rm", "-f", name, `${name}u`]);
      await docker.run(["volume", "rm", vol]);
    });
    const run = await docker.run([
      "run",
      "-d",
      "--name",
      name,
      ...NO_SIDECAR,
      "-v",
      `${vol}:/data`,
      "busybox",
      "sh",
      "-c",
      "echo app-wrote > /tmp/out; rm /etc/group; sleep 600",
    ]);
    t.is(run.code, 0, run.stderr);
    const local = join(daemon.dir, `cp-${name}`);
    mkdirSync(local);
    writeFileSync(join(local, "in.txt"), "from the host\n");

    // In: the running app sees both the file in its root and the one in its volume.
    t.is((await weft(["cp", "-q", join(local, "in.txt"), `${name}:/etc/motd`])).code, 0);
    const intoVolume = await weft(["cp", join(local, "in.txt"), `${name}:/data/`]);
    t.is(intoVolume.code, 0, intoVolume.stderr);
    const seen = await docker.run(["exec", name, "cat", "/etc/motd", "/data/in.txt"]);
    t.is(seen.stdout, "from the host\nfrom the host\n", seen.stderr);
    const owner = await docker.run(["exec", name, "stat", "-c", "%u:%g", "/etc/motd"]);
    t.is(owner.stdout, "0:0\n", "the container's root owns what is copied in");
    // A FIFO is made as one (docker cp makes them too), with its mode.
    execFileSync("mkfifo", ["-m", "0620", join(local, "queue")]);
    const fifo = await weft(["cp", "-q", join(local, "queue"), `${name}:/tmp/`]);
    t.is(fifo.code, 0, fifo.stderr);
    const made = await docker.run(["exec", name, "stat", "-c", "%F %a", "/tmp/queue"]);
    t.is(made.stdout, "fifo 620\n", made.stderr);

    // Under what is mounted inside the container (/dev, /proc): refused, not hidden under the mount.
    const underDev = await weft(["cp", "-q", join(local, "in.txt"), `${name}:/dev/`]);
    t.is(underDev.code, 1);
    t.regex(underDev.stderr, /cannot copy into \/dev\/in\.txt in dcp\w+: \/dev is a tmpfs the runtime makes/);
    const proc = await weft(["cp", `${name}:/proc/cpuinfo`, join(local, "cpuinfo")]);
    t.regex(
      proc.stderr,
      /cannot copy out of \/proc\/cpuinfo in dcp\w+: .*weft exec dcp\w+ cat \/proc\/cpuinfo/,
    );

    // Out: what the app wrote, through weft and through docker.
    await waitFor(async () => (await docker.run(["exec", name, "cat", "/tmp/out"])).stdout === "app-wrote\n");
    t.is((await weft(["cp", "-q", `${name}:/tmp/out`, join(local, "out")])).code, 0);
    t.is(readFileSync(join(local, "out"), "utf8"), "app-wrote\n");
    const viaDocker = await docker.run(["cp", `${name}:/data/in.txt`, join(local, "from-docker")]);
    t.is(viaDocker.code, 0, viaDocker.stderr);
    t.is(readFileSync(join(local, "from-docker"), "utf8"), "from the host\n");

    // A stopped container's files are still there to copy.
    t.is((await docker.run(["stop", "-t", "1", name])).code, 0);
    t.is((await weft(["cp", "-q", `${name}:/etc/motd`, join(local, "after-stop")])).code, 0);
    t.is(readFileSync(join(local, "after-stop"), "utf8"), "from the host\n");

    // diff: what the app and cp changed, not the engine's mount points; export then import is an image.
    const diff = await weft(["diff", name]);
    t.is(diff.stdout, "C /etc\nD /etc/group\nA /etc/motd\nC /tmp\nA /tmp/out\nA /tmp/queue\n", diff.stderr);
    const dockerDiff = await docker.run(["diff", name]);
    t.is(dockerDiff.stdout, diff.stdout, dockerDiff.stderr);
    const exported = join(local, "export.tar");
    const exp = await weft(["export", "-o", exported, name]);
    t.is(exp.code, 0, exp.stderr);
    const members = execFileSync("tar", ["-tf", exported], { encoding: "utf8" }).split("\n");
    t.true(members.includes("etc/motd") && members.includes("tmp/out") && members.includes("bin/busybox"));
    t.false(members.includes("etc/group"), "what the app deleted is not exported");
    t.false(members.includes("data/in.txt"), "volumes are not part of the export");
    const image = `${name}-img`;
    t.is((await weft(["image", "import", exported, image])).code, 0);
    t.teardown(() => docker.run(["rmi", image]).then(() => undefined));
    const fromExport = await docker.run([
      "run",
      "--rm",
      ...NO_SIDECAR,
      image,
      "cat",
      "/etc/motd",
      "/tmp/out",
    ]);
    t.is(fromExport.stdout, "from the host\napp-wrote\n", fromExport.stderr);

    // --userns=auto: what is copied in belongs to the container's root, which is an unprivileged host uid.
    const userns = await weft([
      "run",
      "-d",
      "--name",
      `${name}u`,
      "--userns=auto",
      "--no-sidecar",
      "busybox",
      "sh",
      "-c",
      "while [ ! -f /tmp/in.txt ]; do sleep 0.1; done; stat -c owner=%u:%g /tmp/in.txt; sleep 600",
    ]);
    t.is(userns.code, 0, userns.stderr);
    t.is((await weft(["cp", "-q", join(local, "in.txt"), `${name}u:/tmp/`])).code, 0);
    await waitFor(async () => (await docker.run(["logs", `${name}u`])).stdout.includes("owner="));
    t.regex((await docker.run(["logs", `${name}u`])).stdout, /^owner=0:0$/m);
  },
);

/** weft's CLI against this file's daemon (WEFT_HOST, so flags after positionals stay the app's). */
function weftOn(daemon: RealDaemon) {
  return (args: string[]) => weftCli(args, { WEFT_HOST: `unix://${join(daemon.dir, "run", "weft.sock")}` });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}

test.serial(
  "pause freezes the app (the freezer cgroup), unpause thaws it, stop ends a paused one",
  async (t) => {
    const { docker, daemon } = t.context;
    const name = `dpz${Date.now().toString(36)}`;
    t.teardown(() => docker.run(["rm", "-f", name]).then(() => undefined));
    const run = await docker.run([
      "run",
      "-d",
      "--name",
      name,
      ...NO_SIDECAR,
      "busybox",
      "sh",
      "-c",
      "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done",
    ]);
    t.is(run.code, 0, run.stderr);
    const local = join(daemon.dir, `pause-${name}`);
    mkdirSync(local);
    const count = async () => {
      const cp = await docker.run(["cp", `${name}:/tmp/count`, join(local, "count")]);
      if (cp.code !== 0) return -1;
      return Number(readFileSync(join(local, "count"), "utf8"));
    };
    await waitFor(async () => (await count()) > 0);

    const pause = await docker.run(["pause", name]);
    t.is(pause.code, 0, pause.stderr);
    const inspect = await docker.run([
      "inspect",
      "-f",
      "{{.State.Status}} {{.State.Paused}} {{.State.Running}}",
      name,
    ]);
    t.is(inspect.stdout.trim(), "paused true true");
    t.regex(
      (await docker.run(["ps", "--format", "{{.Names}} {{.Status}}"])).stdout,
      new RegExp(`^${name} Up .* \\(Paused\\)$`, "m"),
    );
    const frozen = await count();
    await new Promise((r) => setTimeout(r, 500));
    t.is(await count(), frozen, "nothing ran while paused");
    const exec = await docker.run(["exec", name, "true"]);
    t.not(exec.code, 0);
    t.regex(exec.stderr, /is paused, unpause the container before exec/);
    t.regex((await docker.run(["pause", name])).stderr, /is already paused/);

    t.is((await docker.run(["unpause", name])).code, 0);
    await waitFor(async () => (await count()) > frozen + 3);
    t.is((await docker.run(["inspect", "-f", "{{.State.Status}}", name])).stdout.trim(), "running");

    t.is((await docker.run(["pause", name])).code, 0);
    const stop = await docker.run(["stop", "-t", "5", name]);
    t.is(stop.code, 0, stop.stderr);
    t.is((await docker.run(["inspect", "-f", "{{.State.Status}}", name])).stdout.trim(), "exited");
  },
);

test.serial(
  "update changes a running container's cgroup limits at once, and they outlive a restart",
  async (t) => {
    const { docker, daemon } = t.context;
    const weft = weftOn(daemon);
    const name = `dup${Date.now().toString(36)}`;
    t.teardown(() => docker.run(["rm", "-f", name]).then(() => undefined));
    t.is(
      (await docker.run(["run", "-d", "--name", name, "-m", "64m", ...NO_SIDECAR, "busybox", "sleep", "600"]))
        .code,
      0,
    );
    const limit = async () => {
      const stats = await weft(["stats", "--no-stream", "--json", name]);
      return (JSON.parse(stats.stdout) as Array<{ memoryLimitBytes: number }>)[0]?.memoryLimitBytes;
    };
    t.is(await limit(), 64 * 1024 * 1024, "the cgroup's limit as the kernel has it");

    const update = await docker.run([
      "update",
      "-m",
      "128m",
      "--memory-swap",
      "128m",
      "--restart",
      "always",
      name,
    ]);
    t.is(update.code, 0, update.stderr);
    t.is(await limit(), 128 * 1024 * 1024);
    const inspect = await docker.run([
      "inspect",
      "-f",
      "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}",
      name,
    ]);
    t.is(inspect.stdout.trim(), `${128 * 1024 * 1024} always`);

    t.is((await weft(["update", "--cpus", "0.5", "--pids", "64", name])).stdout, `${name}\n`);
    t.is((await docker.run(["restart", "-t", "1", name])).code, 0);
    t.is(await limit(), 128 * 1024 * 1024, "kept for the next start");
    const refused = await weft(["update", "-m", "1k", name]);
    t.is(refused.code, 1);
    t.regex(refused.stderr, /weft update: memoryBytes must be at least 6 MiB/);
    t.is(await limit(), 128 * 1024 * 1024, "a refused update changes nothing");
  },
);

test.serial(
  "commit makes an image of a running container's changes; the image runs with them and the --change config; save and load carry it",
  async (t) => {
    const { docker, daemon } = t.context;
    const weft = weftOn(daemon);
    const name = `dcm${Date.now().toString(36)}`;
    const images = [`${name}:v1`, `${name}:v2`];
    t.teardown(async () => {
      await docker.run(["rm", "-f", name]);
      for (const i of images) await docker.run(["rmi", i]);
    });
    const run = await docker.run([
      "run",
      "-d",
      "--name",
      name,
      ...NO_SIDECAR,
      "-e",
      "STAGE=dev",
      "busybox",
      "sh",
      "-c",
      "mkdir -p /srv && echo made-inside > /srv/state && rm /etc/group && sleep 600",
    ]);
    t.is(run.code, 0, run.stderr);
    await waitFor(
      async () => (await docker.run(["exec", name, "cat", "/srv/state"])).stdout === "made-inside\n",
    );

    // docker's CLI, with changes to the config; the container keeps running (it was only frozen).
    const committed = await docker.run([
      "commit",
      "-c",
      'CMD ["cat", "/srv/state"]',
      "-c",
      "ENV STAGE=prod",
      "-m",
      "with state",
      name,
      images[0] as string,
    ]);
    t.is(committed.code, 0, committed.stderr);
    t.regex(committed.stdout, /^sha256:[0-9a-f]{64}\n$/);
    t.is((await docker.run(["inspect", "-f", "{{.State.Status}}", name])).stdout.trim(), "running");
    const comment = await docker.run(["image", "inspect", "-f", "{{.Comment}}", images[0] as string]);
    t.is(comment.stdout, "with state\n", comment.stderr);
    const fromImage = await docker.run(["run", "--rm", ...NO_SIDECAR, images[0] as string]);
    t.is(fromImage.stdout, "made-inside\n", fromImage.stderr);
    const env = await docker.run([
      "run",
      "--rm",
      ...NO_SIDECAR,
      images[0] as string,
      "sh",
      "-c",
      "echo $STAGE; ls /etc",
    ]);
    t.regex(env.stdout, /^prod\n/, env.stderr);
    t.notRegex(env.stdout, /\bgroup\b/, "what the container deleted is deleted in the image");
    t.regex(env.stdout, /\bpasswd\b/);

    // weft's CLI on the stopped container: a second image of it, sharing the base's layer.
    t.is((await docker.run(["stop", "-t", "1", name])).code, 0);
    const second = await weft(["commit", "-c", "WORKDIR /srv", name, images[1] as string]);
    t.is(second.code, 0, second.stderr);
    const [inspect] = JSON.parse((await weft(["image", "inspect", images[1] as string])).stdout) as Array<{
      id: string;
      config: { workdir: string; cmd: string[] };
      diffIds: string[];
    }>;
    t.is(inspect?.config.workdir, "/srv");
    // The id `weft image ls` prints names the image too, as in docker.
    const shortId = String(inspect?.id).slice(0, 12);
    const byId = await weft(["image", "inspect", shortId]);
    t.is(byId.code, 0, byId.stderr);
    t.is((JSON.parse(byId.stdout) as Array<{ name: string }>)[0]?.name, images[1]);
    t.regex((await weft(["image", "ls", "-q"])).stdout, new RegExp(`^${shortId}$`, "m"));
    t.deepEqual(inspect?.config.cmd, [
      "sh",
      "-c",
      "mkdir -p /srv && echo made-inside > /srv/state && rm /etc/group && sleep 600",
    ]);
    t.is(inspect?.diffIds.length, 2, "the base's rootfs as a layer, and the changes");
    const [first] = JSON.parse((await weft(["image", "inspect", images[0] as string])).stdout) as Array<{
      diffIds: string[];
    }>;
    t.is(first?.diffIds[0], inspect?.diffIds[0], "the base's tree is one stored layer for both");
    // docker save, then rmi and docker load: the image comes back by name and runs the same.
    const archive = join(daemon.dir, `${name}.tar`);
    const saved = await docker.run(["save", "-o", archive, images[0] as string]);
    t.is(saved.code, 0, saved.stderr);
    t.is((await docker.run(["rmi", images[0] as string])).code, 0);
    const loaded = await docker.run(["load", "-i", archive]);
    t.is(loaded.code, 0, loaded.stderr);
    t.regex(loaded.stdout, new RegExp(`Loaded image: ${name}:v1`));
    t.is((await docker.run(["run", "--rm", ...NO_SIDECAR, images[0] as string])).stdout, "made-inside\n");
    const weftSave = await weft(["image", "save", "-o", `${archive}.2`, images[1] as string]);
    t.is(weftSave.code, 0, weftSave.stderr);
    t.true(execFileSync("tar", ["-tf", `${archive}.2`], { encoding: "utf8" }).includes("manifest.json"));
    const unknown = await weft(["image", "save", "-o", `${archive}.3`, `${name}:nope`]);
    t.is(unknown.code, 1);
    t.regex(unknown.stderr, /not found/);

    const bad = await weft(["commit", "-c", "RUN make", name, `${name}:bad`]);
    t.is(bad.code, 1);
    t.regex(bad.stderr, /--change "RUN make": weft takes CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR/);
    const missing = await docker.run(["commit", `${name}-nope`, `${name}:x`]);
    t.regex(missing.stderr, /No such container: dcm\w+-nope/);
  },
);

test.serial(
  "system df: what images, a container's writable layer and a volume take, by docker's CLI and weft's",
  async (t) => {
    const { docker, daemon } = t.context;
    const weft = weftOn(daemon);
    const name = `ddf${Date.now().toString(36)}`;
    const vol = `${name}v`;
    t.teardown(async () => {
      await docker.run(["rm", "-f", name]);
      await docker.run(["volume", "rm", vol]);
    });
    const run = await docker.run([
      "run",
      "-d",
      "--name",
      name,
      ...NO_SIDECAR,
      "-v",
      `${vol}:/data`,
      "busybox",
      "sh",
      "-c",
      "head -c 1500000 /dev/zero > /tmp/big; head -c 2500000 /dev/zero > /data/db; sleep 600",
    ]);
    t.is(run.code, 0, run.stderr);
    const usage = async () =>
      JSON.parse((await weft(["system", "df", "--json"])).stdout) as {
        layersBytes: number;
        images: Array<{ names: string[]; containers: number }>;
        containers: Array<{ name: string; rwBytes: number; rootBytes: number }>;
        volumes: Array<{ name: string; bytes: number; refs: number }>;
      };
    await waitFor(
      async () => ((await usage()).volumes.find((v) => v.name === vol)?.bytes ?? 0) === 2_500_000,
    );
    const u = await usage();
    const mine = u.containers.find((c) => c.name === name);
    t.true((mine?.rwBytes ?? 0) >= 1_500_000, `writable layer ${mine?.rwBytes}`);
    t.true((mine?.rootBytes ?? 0) > (mine?.rwBytes ?? 0), "its image's size on top");
    t.like(
      u.volumes.find((v) => v.name === vol),
      { bytes: 2_500_000, refs: 1 },
    );
    t.true(u.images.some((i) => i.names.includes("busybox:latest") && i.containers >= 1));
    t.true(u.layersBytes > 0);

    // docker's CLI reads the same from GET /system/df.
    const summary = await docker.run(["system", "df"]);
    t.is(summary.code, 0, summary.stderr);
    t.regex(summary.stdout, /^Images\s+\d+\s+\d+\s+\S+B\s+/m);
    t.regex(summary.stdout, /^Local Volumes\s+\d+\s+\d+\s+\S+B/m);
    const verbose = await docker.run(["system", "df", "-v"]);
    t.is(verbose.code, 0, verbose.stderr);
    t.regex(verbose.stdout, new RegExp(`${vol}\\s+1\\s+2\\.5MB`));
    t.regex(verbose.stdout, new RegExp(`1\\.5MB\\s+.*${name}`));
    t.regex((await weft(["system", "df"])).stdout, /^Containers\s+\d+\s+\d+\s+\S+B\s+\S+B/m);
  },
);

test.serial("docker rename and weft rename a running container; a taken name is refused", async (t) => {
  const { docker, daemon } = t.context;
  const weft = weftOn(daemon);
  const name = `rn${Date.now().toString(36)}`;
  const other = `${name}-other`;
  t.teardown(async () => {
    await docker.run(["rm", "-f", name, `${name}-a`, `${name}-b`, other]);
  });
  for (const n of [name, other]) {
    const run = await docker.run(["run", "-d", "--name", n, ...NO_SIDECAR, "busybox", "sleep", "600"]);
    t.is(run.code, 0, run.stderr);
  }
  const renamed = await docker.run(["rename", name, `${name}-a`]);
  t.is(renamed.code, 0, renamed.stderr);
  const ps = await docker.run(["ps", "--format", "{{.Names}} {{.Status}}"]);
  t.regex(ps.stdout, new RegExp(`^${name}-a Up `, "m"), "still running, under its new name");
  t.notRegex(ps.stdout, new RegExp(`^${name} `, "m"));
  t.is((await docker.run(["exec", `${name}-a`, "echo", "hi"])).stdout, "hi\n");

  const taken = await docker.run(["rename", `${name}-a`, other]);
  t.not(taken.code, 0);
  t.regex(taken.stderr, new RegExp(`"${other}" is already in use`));
  const bad = await weft(["rename", `${name}-a`, "no/slash"]);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /name "no\/slash" is invalid/);

  const again = await weft(["rename", `${name}-a`, `${name}-b`]);
  t.is(again.code, 0, again.stderr);
  // weft events: docker's --until takes whole seconds and would leave out this second's events.
  const events = await weft(["events", "--since", "5m", "--until", "0s", "--filter", "event=rename"]);
  t.regex(
    events.stdout,
    new RegExp(
      `rename [0-9a-f]{64} \\(image=busybox, name=${name}-a, oldName=/${name}, weft.sidecar=false\\)`,
    ),
  );
  t.regex(
    events.stdout,
    new RegExp(
      `rename [0-9a-f]{64} \\(image=busybox, name=${name}-b, oldName=/${name}-a, weft.sidecar=false\\)`,
    ),
  );
  // The first name is free again.
  t.is((await docker.run(["create", "--name", name, ...NO_SIDECAR, "busybox"])).code, 0);
});

test.serial(
  "run --rm of a command the image lacks: 127 with the reason, and the container is gone",
  async (t) => {
    const { docker } = t.context;
    const name = `nocmd${Date.now().toString(36)}`;
    // docker run --rm waits for the removal: a container that could not start was never removed, and
    // the CLI waited for ever.
    const run = await docker.run(["run", "--rm", "--name", name, ...NO_SIDECAR, "busybox", "nosuchcmd"], {
      timeoutMs: 20_000,
    });
    t.is(run.code, 127, run.stderr);
    t.regex(run.stderr, /executable file not found in \$PATH; the command does not exist in the image/);
    t.is(run.stderr.match(/executable file not found/g)?.length, 1, "runc's words are said once");
    const gone = async () => (await docker.run(["ps", "-a", "-q", "--filter", `name=${name}`])).stdout.trim();
    for (let i = 0; i < 50 && (await gone()) !== ""; i++) await new Promise((r) => setTimeout(r, 100));
    t.is(await gone(), "");
  },
);
