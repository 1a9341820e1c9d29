// The real docker CLI against the daemon's socket server with an in-memory engine: the protocol side
// (negotiation, hijacked attach/exec, multiplexed logs, JSON message streams) exactly as the CLI
// speaks it. docker-cli.real.test.ts does the same against runc.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import test from "ava";
import { dockerCli, waitForOutput } from "../runtime/src/api/docker/docker-cli.testing";
import { startFakeDockerDaemon } from "../runtime/src/api/docker/fake-engine.testing";

function socketOf(docker: { commandLine(args: string[]): string }): string {
  return /unix:\/\/([^']+)/.exec(docker.commandLine([]))?.[1] ?? "";
}

async function setup(t: { teardown(fn: () => Promise<void> | void): void }) {
  const d = await startFakeDockerDaemon();
  t.teardown(d.close);
  d.engine.addImage("busybox:latest");
  const docker = dockerCli(d.socket);
  t.teardown(docker.close);
  return { docker, engine: d.engine, dir: d.socket.replace(/\/weft\.sock$/, "") };
}

test("version, info and images talk to weft", async (t) => {
  const { docker } = await setup(t);
  const v = await docker.run(["version", "--format", "{{.Server.Platform.Name}} {{.Server.APIVersion}}"]);
  t.is(v.code, 0, v.stderr);
  t.is(v.stdout.trim(), "Weft 1.50");
  const info = await docker.run(["info", "--format", "{{.OperatingSystem}} {{.Images}}"]);
  t.is(info.stdout.trim(), "Weft 1", info.stderr);
  const images = await docker.run(["images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"]);
  t.is(images.stdout.trim(), "busybox:latest 4.2MB");
});

test("load and import answer the JSON message stream the CLI prints", async (t) => {
  const { docker, dir } = await setup(t);
  const archive = join(dir, "image.tar");
  writeFileSync(archive, Buffer.alloc(1024));
  const load = await docker.run(["load", "-i", archive]);
  t.is(load.code, 0, load.stderr);
  t.is(load.stdout.trim(), "Loaded image: loaded:latest");
  const imp = await docker.run(["import", archive, "mine:v1"]);
  t.is(imp.code, 0, imp.stderr);
  t.regex(imp.stdout, /^sha256:[0-9a-f]{64}/);
  const rmi = await docker.run(["rmi", "mine:v1"]);
  t.regex(rmi.stdout, /Untagged: mine:v1/);
  const missing = await docker.run(["rmi", "nope"]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /Error response from daemon: No such image: nope/);
});

test("run -d, ps, logs -f, exec, inspect, stop, rm", async (t) => {
  const { docker, engine } = await setup(t);
  const run = await docker.run(["run", "-d", "--name", "web", "-e", "A=1", "busybox", "sleep", "100"]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout.trim(), /^[0-9a-f]{64}$/);
  const ps = await docker.run(["ps", "--format", "{{.Names}}|{{.Status}}|{{.Command}}"]);
  t.regex(ps.stdout.trim(), /^web\|Up .*\|"sleep 100"$/);

  const web = [...engine.containers.values()][0];
  if (!web) throw new Error("the fake has no container");
  web.log.push({ stream: "stdout", time: new Date().toISOString(), data: Buffer.from("early\n") });
  const follow = docker.spawn(["logs", "-f", "web"]);
  t.teardown(() => {
    follow.kill();
  });
  // Once the past line arrived the follower is subscribed: a new line must reach it.
  await waitForOutput(follow, /early/);
  web.output.push({ stream: "stdout", time: new Date().toISOString(), data: Buffer.from("live line\n") });
  t.regex(await waitForOutput(follow, /live line/), /live line/);

  const exec = await docker.run(["exec", "web", "sh", "-c", "exit 3"]);
  t.is(exec.code, 3);
  t.is(exec.stdout, "exec:sh -c exit 3\n");
  const piped = await docker.run(["exec", "-i", "web", "cat"], { input: "through stdin\n" });
  t.is(piped.code, 0, piped.stderr);
  t.is(piped.stdout, "exec:cat\nthrough stdin\n");

  const inspect = await docker.run(["inspect", "-f", "{{.State.Running}} {{.Name}} {{.Config.Env}}", "web"]);
  t.is(inspect.stdout.trim(), "true /web [A=1]");
  const top = await docker.run(["top", "web"]);
  t.regex(
    top.stdout,
    /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n1000\s+4242\s+.*\s+sleep 100\n$/,
    top.stderr,
  );
  t.is((await docker.run(["stop", "web"])).stdout.trim(), "web");
  const ps2 = await docker.run(["ps", "-a", "--format", "{{.Names}}|{{.Status}}"]);
  t.regex(ps2.stdout.trim(), /^web\|Exited \(143\) /);
  t.is((await docker.run(["rm", "web"])).stdout.trim(), "web");
  const gone = await docker.run(["inspect", "web"]);
  t.is(gone.code, 1);
  t.regex(gone.stderr, /No such object: web/);
  const rm = await docker.run(["rm", "web"]);
  t.regex(rm.stderr, /Error response from daemon: No such container: web/);
});

test("container prune removes stopped containers, those with a label when asked", async (t) => {
  const { docker } = await setup(t);
  const create = async (...args: string[]) =>
    (await docker.run(["create", ...args, "busybox"])).stdout.trim();
  const kept = await create("--name", "kept");
  const labelled = await create("--name", "scratch", "--label", "tmp=1");
  t.is(
    (await docker.run(["run", "-d", "--name", "up", "--label", "tmp=1", "busybox", "sleep", "100"])).code,
    0,
  );
  const some = await docker.run(["container", "prune", "-f", "--filter", "label=tmp"]);
  t.regex(some.stdout, new RegExp(`^Deleted Containers:\n${labelled}\n`), some.stderr);
  const all = await docker.run(["container", "prune", "-f"]);
  t.regex(all.stdout, new RegExp(`^Deleted Containers:\n${kept}\n`), all.stderr);
  t.is((await docker.run(["ps", "-a", "--format", "{{.Names}}"])).stdout, "up\n");
  const bad = await docker.run(["container", "prune", "-f", "--filter", "until=1h"]);
  t.regex(bad.stderr, /invalid filter 'until': weft's container prune takes label= only/);
});

test("image prune -a removes the images no container was made from; without -a nothing is dangling", async (t) => {
  const { docker, engine } = await setup(t);
  engine.addImage("spare:latest");
  t.is((await docker.run(["create", "--name", "user", "busybox"])).code, 0);
  const plain = await docker.run(["image", "prune", "-f"]);
  t.is(plain.code, 0, plain.stderr);
  t.notRegex(plain.stdout, /untagged/);
  const all = await docker.run(["image", "prune", "-a", "-f"]);
  t.regex(all.stdout, /^Deleted Images:\nuntagged: spare:latest\ndeleted: sha256:[0-9a-f]{64}\n/, all.stderr);
  const left = await docker.run(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
  t.is(left.stdout, "busybox:latest\n", "the image a stopped container was made from stays");
});

test("run in the foreground and run -i attach through a hijacked connection", async (t) => {
  const { docker } = await setup(t);
  const fg = await docker.run(["run", "--name", "job", "busybox", "echo", "hello"]);
  t.is(fg.code, 0, fg.stderr);
  t.is(fg.stdout, "hello\n");
  t.is(fg.stderr, "to stderr\n");
  const failing = await docker.run(["run", "busybox", "fail", "7"]);
  t.is(failing.code, 7);
  const interactive = await docker.run(["run", "-i", "--rm", "busybox", "cat"], { input: "typed\n" });
  t.is(interactive.code, 0, interactive.stderr);
  t.is(interactive.stdout, "typed\n");
});

test("refused create options and unknown versions show Docker's error", async (t) => {
  const { docker } = await setup(t);
  const net = await docker.run(["run", "-d", "--network", "host", "busybox", "true"]);
  t.is(net.code, 125);
  t.regex(net.stderr, /HostConfig.NetworkMode "host" is not supported/);
  const pull = await docker.run(["run", "-d", "nginx"]);
  t.not(pull.code, 0);
  t.regex(pull.stderr, /weft does not pull from registries/);
  const tooNew = await docker.run(["version"], {});
  t.is(tooNew.code, 0);
  const pinned = dockerCli(socketOf(docker));
  t.teardown(pinned.close);
  pinned.env.DOCKER_API_VERSION = "1.51";
  const refused = await pinned.run(["ps"]);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /client version 1.51 is too new. Maximum supported API version is 1.50/);
});

test("cp copies files and directories both ways, symlinks resolved inside the container", async (t) => {
  const { docker, engine, dir } = await setup(t);
  t.is((await docker.run(["create", "--name", "box", "busybox"])).code, 0);
  const root = engine.files("box").o.rootfs;
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "etc/app.conf"), "port=8080\n");
  mkdirSync(join(root, "data/sub"), { recursive: true });
  writeFileSync(join(root, "data/sub/x.txt"), "x");
  chmodSync(join(root, "data/sub/x.txt"), 0o640);
  symlinkSync("/etc/app.conf", join(root, "conf-link"));
  // Absolute, so read from the host it would be the host's /weft-cp-...: inside the container it is /inside.
  const outside = `/weft-cp-escape-${process.pid}`;
  mkdirSync(join(root, outside.slice(1)));
  symlinkSync(outside, join(root, "escape"));
  // The host has a directory of that name too, so a copy that escaped would land there, not fail.
  mkdirSync(outside);
  t.teardown(() => rmSync(outside, { recursive: true, force: true }));

  const host = join(dir, "host");
  mkdirSync(host);
  const file = await docker.run(["cp", "box:/etc/app.conf", `${host}/`]);
  t.is(file.code, 0, file.stderr);
  t.is(readFileSync(join(host, "app.conf"), "utf8"), "port=8080\n");
  const tree = await docker.run(["cp", "box:/data", join(host, "copy")]);
  t.is(tree.code, 0, tree.stderr);
  t.is(readFileSync(join(host, "copy/sub/x.txt"), "utf8"), "x");
  t.is(statSync(join(host, "copy/sub/x.txt")).mode & 0o777, 0o640, "modes are kept");
  const followed = await docker.run(["cp", "-L", "box:/conf-link", join(host, "followed")]);
  t.is(followed.code, 0, followed.stderr);
  t.is(readFileSync(join(host, "followed"), "utf8"), "port=8080\n");

  writeFileSync(join(host, "new.txt"), "from the host");
  const put = await docker.run(["cp", join(host, "new.txt"), "box:/escape/"]);
  t.is(put.code, 0, put.stderr);
  t.is(readFileSync(join(root, outside.slice(1), "new.txt"), "utf8"), "from the host");
  t.false(existsSync(join(outside, "new.txt")), "the symlink did not lead to the host");
  const putTree = await docker.run(["cp", join(host, "copy"), "box:/restored"]);
  t.is(putTree.code, 0, putTree.stderr);
  t.is(readFileSync(join(root, "restored/sub/x.txt"), "utf8"), "x");

  const missing = await docker.run(["cp", "box:/nope", host]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /Could not find the file \/nope in container box/);
});

test("cp of a directory's contents and of a tar on stdin; diff and export", async (t) => {
  const { docker, engine, dir } = await setup(t);
  t.is((await docker.run(["create", "--name", "box", "busybox"])).code, 0);
  const root = engine.files("box").o.rootfs;
  mkdirSync(join(root, "srv", "www"), { recursive: true });
  writeFileSync(join(root, "srv", "www", "index.html"), "<h1>hi</h1>");
  const into = join(dir, "site");
  mkdirSync(into);
  const contents = await docker.run(["cp", "box:/srv/www/.", into]);
  t.is(contents.code, 0, contents.stderr);
  t.is(readFileSync(join(into, "index.html"), "utf8"), "<h1>hi</h1>", "the contents, not the directory");

  const archive = join(dir, "in.tar");
  writeFileSync(join(dir, "conf.ini"), "a=1\n");
  execFileSync("tar", ["-C", dir, "-cf", archive, "conf.ini"]);
  const stdin = await docker.run(["cp", "-", "box:/srv"], { input: readFileSync(archive, "latin1") });
  t.is(stdin.code, 0, stdin.stderr);
  t.is(readFileSync(join(root, "srv", "conf.ini"), "utf8"), "a=1\n");

  // The fake has no image layers: all of its files are added.
  const diff = await docker.run(["diff", "box"]);
  t.is(diff.stdout, "A /srv\nA /srv/conf.ini\nA /srv/www\nA /srv/www/index.html\n", diff.stderr);
  const exported = join(dir, "box.tar");
  const exp = await docker.run(["export", "-o", exported, "box"]);
  t.is(exp.code, 0, exp.stderr);
  t.deepEqual(execFileSync("tar", ["-tf", exported], { encoding: "utf8" }).split("\n").filter(Boolean), [
    "srv/",
    "srv/conf.ini",
    "srv/www/",
    "srv/www/index.html",
  ]);
});
