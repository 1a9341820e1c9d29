// docker build against a real weft daemon: the real docker CLI sends a folder and a Dockerfile, each
// RUN runs in a runc container, and the image it makes runs. The daemon imports busybox at start.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import anyTest, { type TestFn } from "ava";
import { type DockerCli, dockerCli, waitForOutput } from "../runtime/src/api/docker/docker-cli.testing";
import { weftCli } from "../runtime/src/cli/testing";
import { type RealDaemon, startRealDaemon } from "../runtime/src/engine/real-daemon.testing";

const test = anyTest as TestFn<{ daemon: RealDaemon; docker: DockerCli; dir: string }>;

test.before(async (t) => {
  const daemon = await startRealDaemon();
  const docker = dockerCli(join(daemon.dir, "run", "weft.sock"));
  t.context = { daemon, docker, dir: mkdtempSync(join(tmpdir(), "weft-build-test-")) };
});

test.after.always(async (t) => {
  t.context.docker?.close();
  await t.context.daemon?.close();
  if (t.context.dir) rmSync(t.context.dir, { recursive: true, force: true });
});

/** A build context folder with these files (paths with "/" make their folders). */
function context(t: { context: { dir: string } }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(t.context.dir, "ctx-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** No step container and no temporary image outlives a build. */
async function noLeftovers(docker: DockerCli): Promise<{ containers: string; images: string }> {
  const ps = await docker.run(["ps", "-a", "--filter", "label=weft.build", "--format", "{{.Names}}"]);
  const images = await docker.run(["images", "--format", "{{.Repository}}"]);
  return {
    containers: ps.stdout.trim(),
    images: images.stdout
      .split("\n")
      .filter((n) => n.startsWith("weft-build-"))
      .join(" "),
  };
}

test.serial(
  "docker build: ARG, ENV, WORKDIR, COPY (file, folder, pattern), RUN, USER, CMD; the image runs",
  async (t) => {
    const { docker } = t.context;
    const dir = context(t, {
      Dockerfile: [
        "# a comment",
        "ARG BASE=busybox",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile's variable
        "FROM ${BASE}",
        "ARG BASE",
        "ARG GREETING=hello",
        'ENV APP_HOME=/srv/app NAME="weft build"',
        "WORKDIR $APP_HOME",
        "COPY greet.sh ./bin/",
        "COPY conf/ ./conf/",
        "COPY *.txt notes/",
        "RUN chmod +x bin/greet.sh \\",
        '  && echo "$GREETING from RUN" > made-by-run \\',
        "  && echo built in $(pwd) from $BASE",
        "RUN echo builder:x:1234:1234::/srv/app:/bin/sh >> /etc/passwd && chown -R builder /srv/app",
        "USER builder",
        "EXPOSE 8080 9000-9001/udp",
        'LABEL org.example.team="mesh team"',
        'CMD ["./bin/greet.sh"]',
      ].join("\n"),
      "greet.sh":
        "#!/bin/sh\necho \"$(cat made-by-run) as $(id -u) in $(pwd); $NAME; $(cat conf/app.conf); $(ls notes | tr '\\n' ' ')\"\n",
      "conf/app.conf": "level=debug",
      "a.txt": "a",
      "b.txt": "b",
      "ignored.md": "not copied",
    });
    const build = await docker.run(["build", "-t", "greeter:1", "--build-arg", "GREETING=hi", dir], {
      timeoutMs: 120_000,
    });
    t.is(build.code, 0, build.stdout + build.stderr);
    t.regex(build.stdout, /Step 1\/15 : ARG BASE=busybox\n(.*\n)?Step 2\/15 : FROM \$\{BASE\}/);
    t.regex(build.stdout, /built in \/srv\/app from busybox/, "a RUN's output, with a global ARG redeclared");
    t.regex(build.stdout, /Successfully tagged greeter:1/);

    const run = await docker.run(["run", "--rm", "--label", "weft.sidecar=false", "greeter:1"]);
    t.is(run.code, 0, run.stderr);
    t.is(run.stdout.trim(), "hi from RUN as 1234 in /srv/app; weft build; level=debug; a.txt b.txt");

    // -e replaces the image's variable in place: the container's config (docker inspect) and the
    // process's environment hold it once.
    const withEnv = `env${Date.now().toString(36)}`;
    const created = await docker.run([
      "create",
      "--name",
      withEnv,
      "--label",
      "weft.sidecar=false",
      "-e",
      "NAME=other",
      "greeter:1",
      "cat",
      "/proc/self/environ",
    ]);
    t.is(created.code, 0, created.stderr);
    const containerEnv = await docker.run(["inspect", withEnv, "--format", "{{json .Config.Env}}"]);
    t.deepEqual(
      (JSON.parse(containerEnv.stdout) as string[]).filter((e) => e.startsWith("NAME=")),
      ["NAME=other"],
    );
    const environ = await docker.run(["start", "-a", withEnv]);
    t.deepEqual(
      environ.stdout.split("\0").filter((l) => l.startsWith("NAME=")),
      ["NAME=other"],
      environ.stdout,
    );
    await docker.run(["rm", withEnv]);
    const inspect = await docker.run(["image", "inspect", "greeter:1", "--format", "{{json .Config}}"]);
    const config = JSON.parse(inspect.stdout) as {
      Env: string[];
      Cmd: string[];
      WorkingDir: string;
      User: string;
      ExposedPorts: Record<string, object>;
      Labels: Record<string, string>;
    };
    t.true(config.Env.includes("APP_HOME=/srv/app"));
    t.true(config.Env.includes("NAME=weft build"));
    t.false(
      config.Env.some((e) => e.startsWith("GREETING=")),
      "an ARG reaches RUN, not the image",
    );
    t.deepEqual(config.Cmd, ["./bin/greet.sh"]);
    t.is(config.WorkingDir, "/srv/app");
    t.is(config.User, "builder");
    t.deepEqual(Object.keys(config.ExposedPorts), ["8080/tcp", "9000/udp", "9001/udp"]);
    t.is(config.Labels["org.example.team"], "mesh team");
    t.deepEqual(await noLeftovers(docker), { containers: "", images: "" });
  },
);

test.serial(
  "docker build: a failing RUN fails the build with its code and keeps the image already named",
  async (t) => {
    const { docker } = t.context;
    const ok = context(t, { Dockerfile: 'FROM busybox\nCMD ["echo", "first"]\n' });
    t.is((await docker.run(["build", "-t", "keeper", ok])).code, 0);
    const dir = context(t, {
      Dockerfile:
        'FROM busybox\nRUN echo before > /x\nRUN echo failing on purpose >&2; exit 3\nCMD ["echo", "second"]\n',
    });
    const build = await docker.run(["build", "-t", "keeper", dir]);
    t.not(build.code, 0);
    t.regex(
      build.stdout + build.stderr,
      /The command '\/bin\/sh -c echo failing on purpose >&2; exit 3' returned a non-zero code: 3/,
    );
    t.regex(build.stdout + build.stderr, /failing on purpose/, "the failing step's stderr is shown");
    const run = await docker.run(["run", "--rm", "--label", "weft.sidecar=false", "keeper"]);
    t.is(run.stdout.trim(), "first", "the name still holds the earlier image");
    t.deepEqual(await noLeftovers(docker), { containers: "", images: "" });
  },
);

test.serial("docker build: stages, COPY --from, --target, FROM scratch", async (t) => {
  const { docker } = t.context;
  const dir = context(t, {
    Dockerfile: [
      "FROM busybox AS builder",
      "RUN mkdir /out && echo artifact-v1 > /out/artifact && cp /bin/busybox /out/",
      "FROM busybox AS tester",
      "RUN echo the tester stage ran > /tested",
      "FROM scratch",
      "COPY --from=builder /out/busybox /bin/busybox",
      "COPY --from=builder /out/artifact /app/",
      'ENTRYPOINT ["/bin/busybox"]',
      'CMD ["cat", "/app/artifact"]',
    ].join("\n"),
  });
  const build = await docker.run(["build", "-t", "staged", dir], { timeoutMs: 120_000 });
  t.is(build.code, 0, build.stdout + build.stderr);
  const run = await docker.run(["run", "--rm", "--label", "weft.sidecar=false", "staged"]);
  t.is(run.stdout.trim(), "artifact-v1", run.stderr);
  const ls = await docker.run(["run", "--rm", "--label", "weft.sidecar=false", "staged", "ls", "/"]);
  const top = ls.stdout.trim().split(/\s+/);
  t.true(top.includes("app") && top.includes("bin"), ls.stdout);
  // Only what was copied from the builder stage: busybox's own tree (usr, out) is not there.
  t.false(top.includes("out") || top.includes("usr"), ls.stdout);

  const target = await docker.run(["build", "-t", "only-tester", "--target", "tester", dir]);
  t.is(target.code, 0, target.stdout + target.stderr);
  const tested = await docker.run([
    "run",
    "--rm",
    "--label",
    "weft.sidecar=false",
    "only-tester",
    "cat",
    "/tested",
  ]);
  t.is(tested.stdout.trim(), "the tester stage ran");
  t.deepEqual(await noLeftovers(docker), { containers: "", images: "" });
});

test.serial(
  "docker build: ADD unpacks a local tar or .tar.gz; a symlink to a host file is not followed",
  async (t) => {
    const { docker } = t.context;
    const dir = context(t, { Dockerfile: "" });
    const stuff = join(dir, "stuff");
    mkdirSync(stuff);
    writeFileSync(join(stuff, "inside.txt"), "from the archive");
    execFileSync("tar", ["-C", stuff, "-cf", join(dir, "plain.tar"), "inside.txt"]);
    execFileSync("tar", ["-C", stuff, "-czf", join(dir, "packed.tar.gz"), "inside.txt"]);
    rmSync(stuff, { recursive: true });
    // A tar on the host, outside the context: a link to it in the context must not bring it in.
    const secret = mkdtempSync(join(t.context.dir, "host-"));
    writeFileSync(join(secret, "secret.txt"), "host only");
    execFileSync("tar", ["-C", secret, "-cf", join(secret, "host.tar"), "secret.txt"]);
    symlinkSync(join(secret, "host.tar"), join(dir, "linked.tar"));
    writeFileSync(
      join(dir, "Dockerfile"),
      'FROM busybox\nADD plain.tar /plain/\nADD packed.tar.gz /packed\nADD linked.tar /linked/\nCMD ["sh", "-c", "cat /plain/inside.txt; echo; cat /packed/inside.txt; echo; ls -A /linked"]\n',
    );
    const build = await docker.run(["build", "-t", "added", dir]);
    t.is(build.code, 0, build.stdout + build.stderr);
    const run = await docker.run(["run", "--rm", "--label", "weft.sidecar=false", "added"]);
    t.deepEqual(
      run.stdout.trim().split("\n"),
      ["from the archive", "from the archive", "linked.tar"],
      run.stderr,
    );
  },
);

test.serial("docker build: bad input says what to do", async (t) => {
  const { docker } = t.context;
  const missing = await docker.run(["build", "-t", "x", context(t, { Dockerfile: "FROM not-here:1\n" })]);
  t.not(missing.code, 0);
  t.regex(missing.stderr + missing.stdout, /FROM not-here:1: no such image here.*docker load/);
  const unknown = await docker.run([
    "build",
    "-t",
    "x",
    context(t, { Dockerfile: "FROM busybox\nFETCH x\n" }),
  ]);
  t.regex(unknown.stderr + unknown.stdout, /Dockerfile line 2: unknown instruction/i);
  const noSource = await docker.run([
    "build",
    "-t",
    "x",
    context(t, { Dockerfile: "FROM busybox\nCOPY absent.txt /\n" }),
  ]);
  t.regex(noSource.stderr + noSource.stdout, /absent\.txt/);
  const noStage = await docker.run([
    "build",
    "-t",
    "x",
    context(t, { Dockerfile: "FROM busybox\nCOPY --from=nowhere /x /\n" }),
  ]);
  t.regex(noStage.stderr + noStage.stdout, /line 2: COPY --from=nowhere: no stage of that name/);
  const buildkit = await docker.run([
    "build",
    "-t",
    "x",
    context(t, { Dockerfile: "FROM busybox\nRUN --mount=type=cache,target=/root/.cache true\n" }),
  ]);
  t.regex(buildkit.stderr + buildkit.stdout, /line 2: RUN --mount: .*needs BuildKit/);
  const noTag = await docker.run(["build", context(t, { Dockerfile: "FROM busybox\n" })]);
  t.regex(noTag.stderr + noTag.stdout, /-t NAME/);
  t.deepEqual(await noLeftovers(docker), { containers: "", images: "" });
});

test.serial("weft build: .dockerignore, -f from outside the context, --build-arg, -q", async (t) => {
  const { daemon, docker } = t.context;
  const weft = (args: string[]) =>
    weftCli(args, { WEFT_HOST: `unix://${join(daemon.dir, "run", "weft.sock")}` });
  const dir = context(t, {
    ".dockerignore": "# build output\nsecrets/\n*.log\n!keep.log\n!secrets/public.txt\n",
    "secrets/token": "do not send",
    "secrets/public.txt": "may be sent",
    "debug.log": "noise",
    "keep.log": "kept",
    "app.txt": "app",
  });
  const elsewhere = context(t, {
    "weft.Dockerfile":
      'FROM busybox\nARG WHO\nCOPY . /ctx/\nRUN echo "built by $WHO" > /ctx/by\nCMD ["sh", "-c", "ls /ctx /ctx/secrets; cat /ctx/by"]\n',
  });
  const build = await weft([
    "build",
    "-t",
    "from-weft:2",
    "-f",
    join(elsewhere, "weft.Dockerfile"),
    "--build-arg",
    "WHO=weft",
    dir,
  ]);
  t.is(build.code, 0, build.stdout + build.stderr);
  t.regex(build.stdout, /Step 3\/5 : COPY \. \/ctx\//);
  t.regex(build.stdout, /Successfully tagged from-weft:2/);
  const run = await docker.run(["run", "--rm", "--label", "weft.sidecar=false", "from-weft:2"]);
  t.deepEqual(
    run.stdout.trim().split("\n"),
    ["/ctx:", "app.txt", "by", "keep.log", "secrets", "", "/ctx/secrets:", "public.txt", "built by weft"],
    run.stderr,
  );

  const quiet = await weft([
    "build",
    "-q",
    "-t",
    "from-weft:3",
    "-f",
    join(elsewhere, "weft.Dockerfile"),
    dir,
  ]);
  t.is(quiet.code, 0, quiet.stderr);
  t.regex(quiet.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const failed = await weft(["build", "-t", "x", context(t, { Dockerfile: "FROM busybox\nRUN exit 7\n" })]);
  t.is(failed.code, 1);
  t.regex(failed.stderr, /returned a non-zero code: 7/);
  t.deepEqual(await noLeftovers(docker), { containers: "", images: "" });
});

test.serial(
  "a step already run on the same image with the same files is taken from the cache, until a file changes, --no-cache, or a prune",
  async (t) => {
    const { docker, daemon } = t.context;
    const weft = (args: string[]) =>
      weftCli(args, { WEFT_HOST: `unix://${join(daemon.dir, "run", "weft.sock")}` });
    const unique = `${Date.now()}-${Math.random()}`;
    const dir = context(t, {
      Dockerfile: [
        "FROM busybox",
        "COPY app.txt /app.txt",
        "RUN cat /proc/sys/kernel/random/uuid > /stamp",
        "ENV MODE=cached",
        'CMD ["cat", "/stamp"]',
      ].join("\n"),
      "app.txt": `version 1 ${unique}`,
    });
    const build = async (tag: string, ...flags: string[]) => {
      const r = await docker.run(["build", ...flags, "-t", tag, dir], { timeoutMs: 120_000 });
      t.is(r.code, 0, r.stdout + r.stderr);
      const id = await docker.run(["image", "inspect", tag, "--format", "{{.Id}}"]);
      const stamp = await docker.run(["run", "--rm", "--label", "weft.sidecar=false", tag]);
      return {
        out: r.stdout,
        id: id.stdout.trim(),
        stamp: stamp.stdout.trim(),
        hits: r.stdout.split("Using cache").length - 1,
      };
    };
    const first = await build("cached:1");
    t.is(first.hits, 0, first.out);
    t.regex(first.stamp, /^[0-9a-f-]{36}$/);

    const again = await build("cached:2");
    t.is(again.hits, 3, `COPY, RUN and the config's commit come from the cache:\n${again.out}`);
    t.regex(
      again.out,
      /Step 3\/5 : RUN cat \/proc\/sys\/kernel\/random\/uuid > \/stamp\n ---> Using cache\n ---> [0-9a-f]{12}\n/,
    );
    t.is(again.id, first.id, "the same image");
    t.is(again.stamp, first.stamp, "the RUN did not run again");

    // A new modification time (a checkout, a copy) is not a change.
    utimesSync(join(dir, "app.txt"), new Date(), new Date(Date.now() + 60_000));
    t.is((await build("cached:3")).id, first.id);

    // A change to the file misses from COPY on: every later step runs again.
    writeFileSync(join(dir, "app.txt"), `version 2 ${unique}`);
    const changed = await build("cached:4");
    t.is(changed.hits, 0, changed.out);
    t.not(changed.stamp, first.stamp);

    const noCache = await build("cached:5", "--no-cache");
    t.is(noCache.hits, 0, noCache.out);
    t.not(noCache.stamp, changed.stamp);
    const afterNoCache = await build("cached:6");
    t.is(afterNoCache.stamp, noCache.stamp, "what --no-cache ran is in the cache for the next build");

    // docker rmi leaves the cache; docker system df counts it; docker builder prune empties it.
    for (const n of [1, 2, 3, 4, 5, 6]) await docker.run(["rmi", `cached:${n}`]);
    const df = await docker.run(["system", "df"]);
    t.regex(df.stdout, /Build Cache\s+[1-9]\d*\s/, df.stdout);
    const prune = await weft(["builder", "prune", "-f"]);
    t.is(prune.code, 0, prune.stderr);
    t.regex(prune.stdout, /Deleted build cache objects: [1-9]\d*\nTotal reclaimed space: /);
    const dockerPrune = await docker.run(["builder", "prune", "-f"]);
    t.is(dockerPrune.code, 0, dockerPrune.stderr);
    t.regex(dockerPrune.stdout, /Total reclaimed space: 0B/, "nothing left to prune");
    const afterPrune = await build("cached:7");
    t.is(afterPrune.hits, 0, afterPrune.out);
    await docker.run(["rmi", "cached:7"]);
    await weft(["builder", "prune", "-f"]);
    t.deepEqual(await noLeftovers(docker), { containers: "", images: "" });
  },
);

test.serial("a build whose client goes away stops: its step container and temporary images go", async (t) => {
  const { docker } = t.context;
  const dir = context(t, {
    Dockerfile: "FROM busybox\nRUN echo step one > /one\nRUN echo sleeping; sleep 60\n",
  });
  const child = docker.spawn(["build", "-t", "never", dir]);
  t.teardown(() => {
    child.kill("SIGKILL");
  });
  await waitForOutput(child, /sleeping/);
  const during = await noLeftovers(docker);
  t.not(during.containers, "", "the RUN's container runs while the build does");
  child.kill("SIGKILL");
  const deadline = Date.now() + 20_000;
  let left = during;
  while (Date.now() < deadline) {
    left = await noLeftovers(docker);
    if (left.containers === "" && left.images === "") break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.deepEqual(left, { containers: "", images: "" });
  const images = await docker.run(["images", "--format", "{{.Repository}}"]);
  t.false(images.stdout.split("\n").includes("never"));
});

test.serial(
  "a built image's HEALTHCHECK runs in its containers (unless --no-healthcheck); STOPSIGNAL is the default stop signal",
  async (t) => {
    const { docker } = t.context;
    const dir = context(t, {
      Dockerfile: [
        "FROM busybox",
        "HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD test -f /tmp/ready",
        "STOPSIGNAL SIGQUIT",
        'CMD ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 60"]',
      ].join("\n"),
    });
    const build = await docker.run(["build", "-t", "checked", dir]);
    t.is(build.code, 0, build.stdout + build.stderr);
    const image = await docker.run([
      "image",
      "inspect",
      "checked",
      "--format",
      "{{json .Config.Healthcheck}} {{.Config.StopSignal}}",
    ]);
    t.is(
      image.stdout.trim(),
      '{"Test":["CMD-SHELL","test -f /tmp/ready"],"Interval":1000000000,"Timeout":2000000000,"Retries":2} SIGQUIT',
    );

    const name = `hc${Date.now().toString(36)}`;
    t.teardown(() => docker.run(["rm", "-f", name, `${name}-off`]).then(() => undefined));
    t.is(
      (await docker.run(["run", "-d", "--name", name, "--label", "weft.sidecar=false", "checked"])).code,
      0,
    );
    let status = "";
    for (let i = 0; i < 60 && status !== "healthy"; i++) {
      status = (await docker.run(["inspect", name, "--format", "{{.State.Health.Status}}"])).stdout.trim();
      if (status !== "healthy") await new Promise((r) => setTimeout(r, 250));
    }
    t.is(status, "healthy");
    t.is(
      (await docker.run(["inspect", name, "--format", "{{.Config.StopSignal}}"])).stdout.trim(),
      "SIGQUIT",
    );

    const off = await docker.run([
      "run",
      "-d",
      "--name",
      `${name}-off`,
      "--no-healthcheck",
      "--label",
      "weft.sidecar=false",
      "checked",
    ]);
    t.is(off.code, 0, off.stderr);
    const health = await docker.run(["inspect", `${name}-off`, "--format", "{{json .State.Health}}"]);
    t.is(health.stdout.trim(), "null", "no health check runs");
  },
);
