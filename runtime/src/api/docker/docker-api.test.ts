import { request } from "node:http";
import test from "ava";
import { type FakeDockerEngine, startFakeDockerDaemon } from "./fake-engine.testing";
import { cgroupVersion } from "./system";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function call(socketPath: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, method, path, headers: { "Content-Type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const json = (r: Reply) =>
  JSON.parse(r.body.toString()) as Record<string, unknown> & Array<Record<string, unknown>>;

async function daemon(t: { teardown(fn: () => Promise<void>): void }) {
  const d = await startFakeDockerDaemon();
  t.teardown(d.close);
  d.engine.addImage("busybox:latest");
  const api = (method: string, path: string, body?: unknown) => call(d.socket, method, path, body);
  return { engine: d.engine as FakeDockerEngine, api };
}

test("ping and version negotiate the API version; other versions get Docker's message", async (t) => {
  const { api } = await daemon(t);
  const ping = await api("HEAD", "/_ping");
  t.is(ping.status, 200);
  t.is(ping.headers["api-version"], "1.50");
  t.is(ping.headers.ostype, "linux");
  t.like(json(await api("GET", "/v1.41/version")), { ApiVersion: "1.50", MinAPIVersion: "1.24" });
  const tooNew = await api("GET", "/v1.99/version");
  t.is(tooNew.status, 400);
  t.is(json(tooNew).message, "client version 1.99 is too new. Maximum supported API version is 1.50");
  const tooOld = await api("GET", "/v1.12/containers/json");
  t.is(tooOld.status, 400);
  t.regex(
    String(json(tooOld).message),
    /client version 1.12 is too old. Minimum supported API version is 1.24/,
  );
  const unknown = await api("GET", "/v1.45/swarm");
  t.is(unknown.status, 404);
  t.is(json(unknown).message, "page not found");
  // docker build's options are checked before the context is read; an engine without a builder
  // (this fake's) is a 501 (test/docker-build.real.test.ts builds for real).
  const untagged = await api("POST", "/v1.45/build", {});
  t.is(untagged.status, 400);
  t.regex(String(json(untagged).message), /-t NAME\[:TAG\]: weft keeps no unnamed images/);
  const remote = await api("POST", "/v1.45/build?t=app&remote=https://example.com/app.git", {});
  t.is(remote.status, 400);
  t.regex(String(json(remote).message), /remote build contexts .* not supported/);
  const args = await api("POST", "/v1.45/build?t=app&buildargs=%5B1%5D", {});
  t.is(args.status, 400);
  t.regex(String(json(args).message), /buildargs must be a JSON object of strings/);
  const build = await api("POST", "/v1.45/build?t=app", {});
  t.is(build.status, 501);
  t.regex(String(json(build).message), /this engine cannot build images/);
});

test("create maps Docker's body; errors are Docker's status codes and words", async (t) => {
  const { api, engine } = await daemon(t);
  const created = await api("POST", "/v1.50/containers/create?name=web", {
    Image: "busybox",
    Cmd: ["sleep", "9"],
    Tty: true,
    Labels: { "weft.sidecar": "false", "weft.service": "web", "weft.port": "8080/http" },
    HostConfig: { Memory: 32 * 1024 * 1024, NanoCpus: 1.5e9, RestartPolicy: { Name: "always" } },
  });
  t.is(created.status, 201);
  t.regex(String(json(created).Id), /^[0-9a-f]{64}$/);
  t.like(engine.lastSpec, {
    // As typed: docker ps lists what the user ran, as Docker does.
    image: "busybox",
    name: "web",
    sidecar: false,
    service: "web",
    memoryBytes: 32 * 1024 * 1024,
    cpus: 1.5,
    tty: true,
    restart: { name: "always", maxRetries: 0 },
  });
  t.deepEqual(engine.lastSpec?.ports, [{ port: 8080, protocol: "http" }]);

  // An image id is not a name the engine looks up: the image's name goes instead.
  const busybox = engine.images().find((i) => i.name === "busybox:latest");
  const byId = await api("POST", "/v1.50/containers/create?name=by-id", { Image: busybox?.id.slice(0, 12) });
  t.is(byId.status, 201);
  t.is(engine.lastSpec?.image, "busybox:latest");

  const dup = await api("POST", "/v1.50/containers/create?name=web", { Image: "busybox" });
  t.is(dup.status, 409);
  const noImage = await api("POST", "/v1.50/containers/create", { Image: "nginx" });
  t.is(noImage.status, 404);
  t.is(json(noImage).message, "No such image: nginx");
  const refused = await api("POST", "/v1.50/containers/create", {
    Image: "busybox",
    HostConfig: { PidMode: "host" },
  });
  t.is(refused.status, 400);
  t.regex(String(json(refused).message), /HostConfig\.PidMode is not supported/);

  Object.defineProperty(engine, "attachStdin", { value: false });
  const stdin = await api("POST", "/v1.50/containers/create", { Image: "busybox", OpenStdin: true });
  t.is(stdin.status, 400);
  t.regex(String(json(stdin).message), /OpenStdin \(-i\) is not supported yet/);
  const missing = await api("POST", "/v1.50/containers/nope/start");
  t.is(missing.status, 404);
  t.is(json(missing).message, "No such container: nope");
  t.is((await api("POST", "/v1.50/containers/web/start")).status, 204);
  t.is((await api("POST", "/v1.50/containers/web/start")).status, 304);
  const rm = await api("DELETE", "/v1.50/containers/web");
  t.is(rm.status, 409);
  t.regex(String(json(rm).message), /container is running/);
  t.is((await api("POST", "/v1.50/containers/web/stop")).status, 204);
  t.is((await api("POST", "/v1.50/containers/web/stop")).status, 304);
  const kill = await api("POST", "/v1.50/containers/web/kill");
  t.is(kill.status, 409);
  t.is((await api("DELETE", "/v1.50/containers/web?force=1&v=1")).status, 204);
  t.is((await api("GET", "/v1.50/containers/web/json")).status, 404);
});

test("ps and inspect answer in Docker's shapes", async (t) => {
  const { api } = await daemon(t);
  await api("POST", "/containers/create?name=app", {
    Image: "busybox",
    Cmd: ["sleep", "9"],
    ExposedPorts: { "80/tcp": {} },
  });
  await api("POST", "/containers/create?name=idle", { Image: "busybox" });
  await api("POST", "/containers/app/start");
  const running = json(await api("GET", "/v1.50/containers/json"));
  t.is(running.length, 1);
  t.like(running[0], {
    Names: ["/app"],
    Image: "busybox",
    State: "running",
    Command: "sleep 9",
    Ports: [{ PrivatePort: 80, Type: "tcp" }],
  });
  t.regex(String(running[0]?.Status), /^Up /);
  const all = json(
    await api("GET", `/v1.50/containers/json?all=1&filters=${encodeURIComponent('{"status":["created"]}')}`),
  );
  t.deepEqual(
    all.map((c) => c.Names),
    [["/idle"]],
  );
  // docker ps --filter ancestor=...: the image in any of its names, or its id.
  const ancestor = async (v: string) =>
    json(
      await api(
        "GET",
        `/v1.50/containers/json?filters=${encodeURIComponent(JSON.stringify({ ancestor: [v] }))}`,
      ),
    ).map((c) => c.Names);
  const busyboxId = String(json(await api("GET", "/v1.50/images/busybox/json")).Id);
  for (const v of ["busybox", "busybox:latest", "docker.io/library/busybox", busyboxId.slice(7, 19)]) {
    t.deepEqual(await ancestor(v), [["/app"]], v);
  }
  t.deepEqual(await ancestor("nginx"), []);
  const inspect = json(await api("GET", "/v1.50/containers/app/json"));
  t.like(inspect, {
    Name: "/app",
    Path: "sleep",
    Args: ["9"],
    State: { Status: "running", Running: true, ExitCode: 0, OOMKilled: false },
    Config: { Image: "busybox", ExposedPorts: { "80/tcp": {} } },
    NetworkSettings: { IPAddress: "10.250.0.2" },
  });
  const images = json(await api("GET", "/v1.50/images/json"));
  t.like(images[0], { RepoTags: ["busybox:latest"], Size: 4_200_000 });
  t.regex(String(images[0]?.Id), /^sha256:[0-9a-f]{64}$/);
  t.like(json(await api("GET", "/v1.50/images/busybox/json")), { RepoTags: ["busybox:latest"], Os: "linux" });
});

test("logs are multiplexed with the 8-byte header, and wait answers the exit code", async (t) => {
  const { api } = await daemon(t);
  await api("POST", "/containers/create?name=job", { Image: "busybox", Cmd: ["echo", "hi"] });
  const waiting = api("POST", "/v1.50/containers/job/wait?condition=next-exit");
  await api("POST", "/containers/job/start");
  t.deepEqual(json(await waiting), { StatusCode: 0, Error: null });
  const logs = await api("GET", "/v1.50/containers/job/logs?stdout=1&stderr=1");
  t.is(logs.headers["content-type"], "application/vnd.docker.multiplexed-stream");
  const b = logs.body;
  t.is(b[0], 1);
  t.is(b.readUInt32BE(4), 3);
  t.is(b.subarray(8, 11).toString(), "hi\n");
  t.is(b[11], 2);
  t.is(b.subarray(19).toString(), "to stderr\n");
  const tail = await api("GET", "/v1.50/containers/job/logs?stdout=1&tail=1&timestamps=1");
  t.regex(tail.body.subarray(8).toString(), /^\d{4}-\d\d-\d\dT[^ ]+ hi\n$/);
  const none = await api("GET", "/v1.50/containers/job/logs");
  t.is(none.status, 400);
  t.is(json(none).message, "Bad parameters: you must choose at least one stream");
});

test("exec create, start and inspect report the command's exit code", async (t) => {
  const { api } = await daemon(t);
  await api("POST", "/containers/create?name=svc", { Image: "busybox", Cmd: ["sleep", "9"] });
  const notRunning = await api("POST", "/v1.50/containers/svc/exec", { Cmd: ["true"] });
  t.is(notRunning.status, 409);
  await api("POST", "/containers/svc/start");
  const created = json(
    await api("POST", "/v1.50/containers/svc/exec", { Cmd: ["sh", "-c", "exit 3"], AttachStdout: true }),
  );
  const id = String(created.Id);
  t.like(json(await api("GET", `/v1.50/exec/${id}/json`)), { Running: false, ExitCode: null });
  const started = await api("POST", `/v1.50/exec/${id}/start`, { Detach: false, Tty: false });
  t.is(started.body.subarray(8).toString(), "exec:sh -c exit 3\n");
  t.like(json(await api("GET", `/v1.50/exec/${id}/json`)), { Running: false, ExitCode: 3 });
  t.is((await api("POST", `/v1.50/exec/${id}/start`, {})).status, 409);
  t.is((await api("GET", "/v1.50/exec/nope/json")).status, 404);
});

test("stats one-shot carries Weft's CPU percentage in Docker's fields", async (t) => {
  const { api } = await daemon(t);
  await api("POST", "/containers/create?name=s", { Image: "busybox", Cmd: ["sleep", "9"] });
  await api("POST", "/containers/s/start");
  const s = json(await api("GET", "/v1.50/containers/s/stats?stream=0")) as unknown as {
    cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number; online_cpus: number };
    precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number };
    memory_stats: { usage: number; limit: number };
  };
  const cpu =
    ((s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage) /
      (s.cpu_stats.system_cpu_usage - s.precpu_stats.system_cpu_usage)) *
    s.cpu_stats.online_cpus *
    100;
  t.is(Math.round(cpu * 10) / 10, 12.5);
  t.is(s.memory_stats.usage, 10 * 1024 * 1024);
});

test("events replay kept ones and filter by type, container and event", async (t) => {
  const { api } = await daemon(t);
  await api("POST", "/containers/create?name=a", { Image: "busybox", Cmd: ["sleep", "9"] });
  await api("POST", "/containers/create?name=b", { Image: "busybox", Cmd: ["sleep", "9"] });
  await api("POST", "/containers/a/start");
  const filters = encodeURIComponent(
    JSON.stringify({ type: ["container"], container: ["a"], event: ["start"] }),
  );
  const until = Math.ceil(Date.now() / 1000) + 1;
  const r = await api("GET", `/v1.50/events?since=0&until=${until}&filters=${filters}`);
  const lines = r.body
    .toString()
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  t.is(lines.length, 1);
  t.like(lines[0], {
    Type: "container",
    Action: "start",
    status: "start",
    Actor: { Attributes: { name: "a" } },
  });
  const bad = await api("GET", `/v1.50/events?filters=${encodeURIComponent('{"colour":["red"]}')}`);
  t.is(bad.status, 400);
});

test("resize passes the CLI's terminal size to the engine; a bad size is Docker's 400", async (t) => {
  const { api, engine } = await daemon(t);
  const created = json(await api("POST", "/containers/create?name=tty", { Image: "busybox", Tty: true }));
  t.is((await api("POST", "/v1.50/containers/tty/start")).status, 204);
  t.is((await api("POST", "/v1.50/containers/tty/resize?h=33&w=101")).status, 200);
  t.deepEqual(engine.sizes.get(String(created.Id)), { rows: 33, cols: 101 });
  const bad = await api("POST", "/v1.50/containers/tty/resize?h=x&w=1");
  t.is(bad.status, 400);
  t.regex(String(json(bad).message), /h must be a whole number/);
});

test("image references follow the store's rule: a name, else a unique id prefix; an ambiguous prefix says so", async (t) => {
  const { engine, api } = await daemon(t);
  engine.addImage("one:latest", `abcd1${"0".repeat(59)}`);
  engine.addImage("two:latest", `abcd2${"0".repeat(59)}`);
  engine.addImage("two:v2", `abcd2${"0".repeat(59)}`);
  const ambiguous = await api("GET", "/v1.50/images/abcd/json");
  t.is(ambiguous.status, 400);
  t.regex(
    String(json(ambiguous).message),
    /image id prefix "abcd" is ambiguous: it starts the ids of one:latest, two:latest, two:v2/,
  );
  const byId = await api("GET", "/v1.50/images/sha256:abcd2/json");
  t.is(byId.status, 200);
  t.deepEqual(json(byId).RepoTags, ["two:latest", "two:v2"]);
  // By id, an image with two names is not removed without force; by name only that name goes.
  t.is((await api("DELETE", "/v1.50/images/abcd2")).status, 409);
  const untag = await api("DELETE", "/v1.50/images/two:v2");
  t.is(untag.status, 200);
  t.deepEqual(json(untag), [{ Untagged: "two:v2" }]);
  t.is((await api("GET", "/v1.50/images/nope/json")).status, 404);
});

test("a compose service that another project already has is named in create's Warnings", async (t) => {
  const { api } = await daemon(t);
  const compose = (project: string) => ({
    Image: "busybox",
    Labels: { "com.docker.compose.project": project, "com.docker.compose.service": "web" },
  });
  const first = json(await api("POST", "/containers/create?name=a_web_1", compose("a")));
  t.deepEqual(first.Warnings, []);
  // The same project's second replica is what compose --scale makes: no warning.
  t.deepEqual(json(await api("POST", "/containers/create?name=a_web_2", compose("a"))).Warnings, []);
  const other = json(await api("POST", "/containers/create?name=b_web_1", compose("b")));
  t.regex(
    String((other.Warnings as string[])[0]),
    /mesh service "web" already has container a_web_1 of project a: they are now replicas of one service/,
  );
});

test("docker info's Cgroup Version is the host's: 1 with v1 controllers (hybrid too), 2 on a pure v2 host", (t) => {
  const v1 = "31 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";
  const unified = "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  const v2 = "26 24 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n";
  t.is(cgroupVersion(v1 + unified), "1");
  t.is(cgroupVersion(v2), "2");
  t.is(cgroupVersion(""), "", "no cgroups at all: left out");
});
