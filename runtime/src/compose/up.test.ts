// Planning and convergence against a fake daemon: what `up` does to an app that is already up.
import test from "ava";
import type { Clock } from "../engine/parts";
import type { ContainerState, HealthState } from "../engine/types";
import type { ComposeApi } from "./api";
import { down, up } from "./up";
import { parseManifest } from "./validate";

class FakeApi implements ComposeApi {
  containers: ContainerState[] = [];
  vols: string[] = [];
  calls: string[] = [];
  /** Health reported for a container name once it runs (default none). */
  health = new Map<string, HealthState>();
  private n = 0;

  async list() {
    return structuredClone(this.containers);
  }
  async inspect(ref: string) {
    const c = this.find(ref);
    return structuredClone({ ...c, health: this.health.get(c.name) });
  }
  async run(body: Record<string, unknown>) {
    const name = body.name as string;
    if (this.containers.some((c) => c.name === name)) throw new Error(`name ${name} in use`);
    this.calls.push(`run ${name}`);
    const c = {
      id: `id${++this.n}`,
      name,
      status: "running",
      labels: body.labels,
      image: body.image,
    } as ContainerState;
    this.containers.push(c);
    return structuredClone(c);
  }
  async start(ref: string) {
    const c = this.find(ref);
    this.calls.push(`start ${c.name}`);
    c.status = "running";
    return structuredClone(c);
  }
  async stop(ref: string) {
    const c = this.find(ref);
    this.calls.push(`stop ${c.name}`);
    c.status = "exited";
  }
  async remove(ref: string) {
    const c = this.find(ref);
    this.calls.push(`rm ${c.name}`);
    this.containers = this.containers.filter((x) => x !== c);
  }
  async volumes() {
    return [...this.vols];
  }
  async createVolume(name: string) {
    this.calls.push(`volume create ${name}`);
    this.vols.push(name);
  }
  async removeVolume(name: string) {
    this.calls.push(`volume rm ${name}`);
    this.vols = this.vols.filter((v) => v !== name);
  }
  private find(ref: string): ContainerState {
    const c = this.containers.find((x) => x.id === ref || x.name === ref);
    if (!c) throw new Error(`no such container ${ref}`);
    return c;
  }
}

/** Advances on every sleep, so waiting loops end without real time passing. */
function fastClock(): Clock {
  let t = 0;
  return {
    now: () => new Date(t),
    sleep: async (ms) => {
      t += ms;
    },
  };
}

const manifest = (text: string) =>
  parseManifest(text, { file: "weft.yaml", dir: "/srv/shop", project: "shop" });

async function upOf(api: FakeApi, text: string, lines: string[] = []) {
  api.calls = [];
  return up(api, manifest(text), { print: (l) => lines.push(l), clock: fastClock(), waitTimeoutMs: 5000 });
}

const APP = `
services:
  web: {image: hello, replicas: 2, depends_on: [db]}
  db: {image: hello, volumes: ["data:/data"]}
volumes: {data: {}}
`;

test("up creates volumes and containers in depends_on order, named PROJECT-SERVICE-N and labelled", async (t) => {
  const api = new FakeApi();
  const lines: string[] = [];
  const r = await upOf(api, APP, lines);
  t.deepEqual(api.calls, ["volume create shop_data", "run shop-db-1", "run shop-web-1", "run shop-web-2"]);
  t.is(r.created, 3);
  const web = api.containers.find((c) => c.name === "shop-web-2")!;
  t.is(web.labels["weft.project"], "shop");
  t.is(web.labels["weft.compose.service"], "web");
  t.regex(web.labels["weft.config-hash"] ?? "", /^[0-9a-f]{16}$/);
  t.true(lines.some((l) => /Container shop-web-2 +Started/.test(l)));
});

test("up again with the same file changes nothing", async (t) => {
  const api = new FakeApi();
  await upOf(api, APP);
  const lines: string[] = [];
  const r = await upOf(api, APP, lines);
  t.deepEqual(api.calls, []);
  t.is(r.unchanged, 3);
  t.true(lines.every((l) => l.endsWith("Running")));
});

test("up recreates only the containers whose service changed, and starts stopped ones", async (t) => {
  const api = new FakeApi();
  await upOf(api, APP);
  api.containers.find((c) => c.name === "shop-db-1")!.status = "exited";
  const changed = APP.replace("replicas: 2,", "replicas: 2, environment: {MODE: v2},");
  const r = await upOf(api, changed);
  t.deepEqual(api.calls, [
    "start shop-db-1",
    "stop shop-web-1",
    "rm shop-web-1",
    "run shop-web-1",
    "stop shop-web-2",
    "rm shop-web-2",
    "run shop-web-2",
  ]);
  t.is(r.recreated, 2);
  t.is(r.started, 1);
});

test("up scales replicas down (highest first) and up", async (t) => {
  const api = new FakeApi();
  await upOf(api, APP.replace("replicas: 2", "replicas: 3"));
  await upOf(api, APP.replace("replicas: 2", "replicas: 1"));
  t.deepEqual(api.calls, ["stop shop-web-3", "rm shop-web-3", "stop shop-web-2", "rm shop-web-2"]);
  await upOf(api, APP);
  t.deepEqual(api.calls, ["run shop-web-2"]);
});

test("up removes containers of services no longer in the file, and leaves other projects alone", async (t) => {
  const api = new FakeApi();
  await upOf(api, APP);
  await up(api, parseManifest(APP, { file: "other.yaml", dir: "/", project: "other" }), {
    print: () => {},
    clock: fastClock(),
  });
  await upOf(api, "services:\n  db: {image: hello, volumes: ['data:/data']}\nvolumes: {data: {}}\n");
  t.deepEqual(api.calls, ["stop shop-web-1", "rm shop-web-1", "stop shop-web-2", "rm shop-web-2"]);
  t.is(api.containers.filter((c) => c.labels["weft.project"] === "other").length, 3);
});

test("up refuses a name held by a container that is not the project's, before doing anything", async (t) => {
  const api = new FakeApi();
  await api.run({ name: "shop-web-1", labels: {} });
  api.calls = [];
  const err = await t.throwsAsync(upOf(api, APP));
  t.regex(err.message, /container "shop-web-1" exists but is not part of project "shop"; remove it/);
  t.deepEqual(api.calls, []);
});

const HEALTHY_DEP = `
services:
  web: {image: hello, depends_on: {db: {condition: service_healthy}}}
  db: {image: hello, healthcheck: {test: ["CMD", "true"]}}
`;

test("service_healthy waits until the dependency is healthy before starting the dependent", async (t) => {
  const api = new FakeApi();
  let polls = 0;
  const inspect = api.inspect.bind(api);
  api.inspect = async (ref) => {
    if (++polls === 3) api.health.set("shop-db-1", { status: "healthy", failingStreak: 0, log: [] });
    return inspect(ref);
  };
  const lines: string[] = [];
  await upOf(api, HEALTHY_DEP, lines);
  t.is(polls, 3);
  t.deepEqual(api.calls, ["run shop-db-1", "run shop-web-1"]);
  t.true(lines.some((l) => /shop-db-1 +Healthy/.test(l)));
});

test("an unhealthy dependency fails up with its last check, and the dependent is not started", async (t) => {
  const api = new FakeApi();
  api.health.set("shop-db-1", {
    status: "unhealthy",
    failingStreak: 3,
    log: [{ start: "", end: "", exitCode: 1, output: "connection refused\n" }],
  });
  const err = await t.throwsAsync(upOf(api, HEALTHY_DEP));
  t.is((err as { code?: string }).code, "DEPENDENCY_FAILED");
  t.regex(err.message, /container shop-db-1 is unhealthy \(last check: connection refused\)/);
  t.deepEqual(api.calls, ["run shop-db-1"]);
});

test("waiting for health is bounded, and says when the daemon reports no health", async (t) => {
  const api = new FakeApi();
  const err = await t.throwsAsync(upOf(api, HEALTHY_DEP));
  t.is((err as { code?: string }).code, "DEPENDENCY_TIMEOUT");
  t.regex(err.message, /shop-db-1 did not become healthy within 5 s \(the daemon reports no health/);
});

test("down removes the project's containers, dependents first, and its volumes with --volumes", async (t) => {
  const api = new FakeApi();
  await upOf(api, APP);
  api.containers.push({
    id: "x",
    name: "shop-old-1",
    status: "exited",
    labels: { "weft.project": "shop", "weft.compose.service": "old" },
  } as unknown as ContainerState);
  api.calls = [];
  const m = manifest(APP);
  const n = await down(api, m, { print: () => {}, volumes: true });
  t.is(n, 4);
  t.deepEqual(api.calls, [
    "rm shop-old-1",
    "stop shop-web-2",
    "rm shop-web-2",
    "stop shop-web-1",
    "rm shop-web-1",
    "stop shop-db-1",
    "rm shop-db-1",
    "volume rm shop_data",
  ]);
  t.deepEqual(api.containers, []);
});

test("a daemon error names the container and service, and what was done stays for the next up", async (t) => {
  const api = new FakeApi();
  const run = api.run.bind(api);
  api.run = async (body) => {
    if (body.name === "shop-web-2")
      throw Object.assign(new Error('no such image "hello"'), { code: "IMAGE_NOT_FOUND" });
    return run(body);
  };
  const err = await t.throwsAsync(upOf(api, APP));
  t.is(err.message, 'shop-web-2 (services.web): no such image "hello"');
  t.is((err as { code?: string }).code, "IMAGE_NOT_FOUND");
  api.run = run;
  await upOf(api, APP);
  t.deepEqual(api.calls, ["run shop-web-2"]);
});
