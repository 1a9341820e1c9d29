// The lifecycle over fake parts: create/start, stop/kill/wait, exits, restart policies, events, and a
// restarted engine (adoption, half-made containers). Exits come from the fake monitor's exit file.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { Engine } from "./engine";
import { eventMatcher } from "./events";
import { FakeSystem } from "./fake-parts";
import { nextBackoffMs, shouldRestart } from "./restart-policy";
import type { ContainerState, EngineEvent } from "./types";
import { validateRunSpec } from "./validate";

function setup(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), "weft-life-"));
  const sys = new FakeSystem();
  const engines: Engine[] = [];
  const make = () => {
    const e = new Engine(sys.parts(dir));
    engines.push(e);
    return e;
  };
  t.teardown(() => {
    for (const e of engines) e.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, sys, engine: make(), make };
}

const spec = (fields: Record<string, unknown>) =>
  validateRunSpec({ image: "busybox", cmd: ["sleep", "300"], ...fields });

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const NOTHING = { addresses: 0, netns: 0, mounts: 0, sidecars: 0, sidecarCgroups: 0, runc: 0 };

test("create makes a container that does not run; start runs it, sidecar first", async (t) => {
  const { sys, engine } = setup(t);
  await engine.load();
  const c = await engine.create(spec({ name: "web", service: "web" }));
  t.is(c.status, "created");
  t.is(sys.runc.size, 0);
  t.is(sys.sidecars.size, 0);
  t.deepEqual(sys.registered.at(-1) ?? [], []);
  await engine.start("web");
  t.is((await engine.inspect("web")).status, "running");
  t.is(sys.sidecars.size, 1);
  t.deepEqual(
    sys.registered.at(-1)!.map((s) => s.name),
    ["web"],
  );
  // Starting a running container is a no-op.
  t.is((await engine.start("web")).pid, c.pid);
});

test("an app that exits by itself: exit code recorded, die event, its sidecar goes, wait returns the code", async (t) => {
  const { sys, engine } = setup(t);
  await engine.load();
  const events: EngineEvent[] = [];
  engine.subscribe((e) => events.push(e));
  const c = await engine.run(spec({ name: "job", service: "job" }));
  const waited = engine.wait("job");
  sys.exitApp(c.id, 3);
  t.deepEqual(await waited, { exitCode: 3, oomKilled: false });
  const s = await engine.inspect("job");
  t.like(s, { status: "exited", exitCode: 3, pid: undefined, sidecarPid: undefined });
  t.is(sys.sidecars.size, 0);
  t.deepEqual(sys.registered.at(-1), []);
  t.deepEqual(
    events.map((e) => e.action),
    ["create", "start", "die"],
  );
  t.is(events[2]!.attributes.exitCode, "3");
  // Waiting on a stopped container answers at once.
  t.deepEqual(await engine.wait("job"), { exitCode: 3, oomKilled: false });
});

test("start of an exited container reuses its network and rootfs", async (t) => {
  const { sys, engine } = setup(t);
  await engine.load();
  const c = await engine.run(spec({ name: "again" }));
  sys.exitApp(c.id, 0);
  await until("exit", async () => (await engine.inspect("again")).status === "exited");
  const again = await engine.start("again");
  t.like(again, { status: "running", address: c.address, netns: c.netns, exitCode: undefined });
  t.is(sys.netns.size, 1);
  t.is(sys.mounts.size, 1);
});

test("kill: CONTAINER_NOT_RUNNING when stopped; SIGKILL records 137 and no restart", async (t) => {
  const { sys, engine } = setup(t);
  await engine.load();
  const c = await engine.run(spec({ name: "k", restart: "always" }));
  // A signal runc does not know is refused before it is asked (it failed with runc's log line).
  const bogus = await t.throwsAsync(engine.kill("k", "BOGUS"));
  t.is((bogus as { code?: string }).code, "INVALID_ARGUMENT");
  t.regex(String(bogus?.message), /"BOGUS" is not a signal; use a name like SIGTERM/);
  t.is(sys.signals.get(c.id), undefined, "runc was not asked");
  await engine.kill("k", "9");
  t.deepEqual(await engine.wait("k"), { exitCode: 137, oomKilled: false });
  t.is((await engine.inspect("k")).status, "exited");
  t.deepEqual(sys.signals.get(c.id), ["SIGKILL"]);
  await t.throwsAsync(engine.kill("k"), { message: /is not running/ });
});

test("on-failure:2 restarts a failing app twice with backoff, then leaves it exited", async (t) => {
  const { sys, engine } = setup(t);
  await engine.load();
  const c = await engine.run(spec({ name: "crashy", restart: "on-failure:2" }));
  for (let i = 1; i <= 2; i++) {
    sys.exitApp(c.id, 1);
    await until(`restart ${i}`, async () => {
      const s = await engine.inspect("crashy");
      return s.status === "running" && s.restartCount === i;
    });
  }
  sys.exitApp(c.id, 1);
  await until("final exit", async () => (await engine.inspect("crashy")).status === "exited");
  t.like(await engine.inspect("crashy"), { restartCount: 2, exitCode: 1 });
  t.is(sys.sidecars.size, 0);
});

test("on-failure does not restart a clean exit; always does; a user's stop is never restarted", async (t) => {
  const { sys, engine } = setup(t);
  await engine.load();
  const ok = await engine.run(spec({ name: "ok", restart: "on-failure" }));
  sys.exitApp(ok.id, 0);
  await until("exit", async () => (await engine.inspect("ok")).status === "exited");
  const always = await engine.run(spec({ name: "always", restart: "always" }));
  sys.exitApp(always.id, 0);
  await until("restart", async () => (await engine.inspect("always")).restartCount === 1);
  t.is((await engine.inspect("always")).status, "running");
  await engine.stop("always", 1);
  const s = await engine.inspect("always");
  t.like(s, { status: "exited", stoppedByUser: true });
  t.is((await engine.inspect("ok")).restartCount, 0);
});

test("backoff doubles from 100 ms to 1 min and resets after 10 s of running", (t) => {
  t.is(nextBackoffMs(undefined, 0), 100);
  t.is(nextBackoffMs(100, 50), 200);
  t.is(nextBackoffMs(40_000, 50), 60_000);
  t.is(nextBackoffMs(60_000, 50), 60_000);
  t.is(nextBackoffMs(60_000, 10_000), 100);
  const policy = { name: "on-failure" as const, maxRetries: 3 };
  t.false(shouldRestart(policy, { exitCode: 1, stoppedByUser: false, restartCount: 3 }));
  t.true(shouldRestart(policy, { exitCode: 1, stoppedByUser: false, restartCount: 2 }));
  t.false(
    shouldRestart({ name: "always", maxRetries: 0 }, { exitCode: 1, stoppedByUser: true, restartCount: 0 }),
  );
});

test("validation: restart, healthcheck, stop signal and timeout name the field", (t) => {
  t.deepEqual(spec({ restart: "on-failure:5" }).restart, { name: "on-failure", maxRetries: 5 });
  t.throws(() => spec({ restart: "sometimes" }), { message: /^restart "sometimes" is invalid: use "no"/ });
  t.throws(() => spec({ restart: "always:3" }), { message: /retry count is allowed only with on-failure/ });
  t.throws(() => spec({ healthcheck: { exec: [] } }), {
    message: /^healthcheck.exec must be a non-empty array/,
  });
  t.throws(() => spec({ healthcheck: {} }), { message: /exactly one of exec/ });
  t.like(spec({ healthcheck: { http: { port: 8080, path: "/h" } } }).healthcheck, {
    http: { port: 8080, path: "/h" },
    intervalMs: 30_000,
    retries: 3,
  });
  t.is(spec({ stopSignal: "int" }).stopSignal, "SIGINT");
  t.is(spec({ stopSignal: 15 }).stopSignal, "SIGTERM");
  t.throws(() => spec({ stopSignal: "NOPE" }), { message: /^stopSignal: "NOPE" is not a signal/ });
  t.throws(() => spec({ stopTimeoutS: -1 }), { message: /^stopTimeoutS must be a whole number/ });
});

test("a stop uses the container's stop signal and timeout", async (t) => {
  const { sys, engine } = setup(t);
  await engine.load();
  const c = await engine.run(spec({ name: "s", stopSignal: "SIGINT", stopTimeoutS: 0 }));
  sys.ignoreSigterm = true;
  await engine.stop("s");
  t.deepEqual(sys.signals.get(c.id), ["SIGINT", "SIGKILL"]);
  t.is((await engine.inspect("s")).exitCode, 137);
});

test("a crashed sidecar is restarted while its app runs", async (t) => {
  const { sys, engine } = setup(t);
  await engine.load();
  const c = await engine.run(spec({ name: "meshed", service: "m" }));
  const first = c.sidecarPid!;
  sys.crashSidecar(first);
  const restarted = await until("sidecar restart", async () => {
    const s = await engine.inspect("meshed");
    return s.sidecarPid !== first && s.sidecarPid !== undefined ? s.sidecarPid : undefined;
  });
  t.true(sys.sidecars.has(restarted));
  t.is((await engine.inspect("meshed")).status, "running");
  t.true(engine.events().some((e) => e.action === "sidecar_restart"));
});

test("a restarted engine records exits that happened meanwhile and restarts per policy", async (t) => {
  const { sys, engine, make } = setup(t);
  await engine.load();
  const job = await engine.run(spec({ name: "job" }));
  const svc = await engine.run(spec({ name: "svc", restart: "unless-stopped" }));
  const stopped = await engine.run(spec({ name: "stopped", restart: "unless-stopped" }));
  const always = await engine.run(spec({ name: "always", restart: "always" }));
  await engine.stop("stopped", 1);
  await engine.stop("always", 1);
  engine.close();
  sys.exitApp(job.id, 7);
  sys.exitApp(svc.id, 2);
  const again = make();
  await again.load();
  t.like(await again.inspect("job"), { status: "exited", exitCode: 7 });
  await until("svc restarted", async () => (await again.inspect("svc")).status === "running");
  await until("always restarted", async () => (await again.inspect("always")).status === "running");
  t.is((await again.inspect("stopped")).status, "exited");
  t.not((await again.inspect("svc")).id, stopped.id);
  void always;
});

test("an unreadable state file is skipped with a warning that says what is left and what to do", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-life-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sys = new FakeSystem();
  const warnings: string[] = [];
  const parts = sys.parts(dir);
  const first = new Engine(parts);
  await first.load();
  const c = await first.run(spec({ name: "damaged" }));
  const kept = await first.run(spec({ name: "kept" }));
  first.close();
  const file = join(dir, "containers", c.id, "state.json");
  writeFileSync(file, '{"id": "trunc');
  const again = new Engine({ ...parts, logger: { ...parts.logger!, warn: (m: string) => warnings.push(m) } });
  t.teardown(() => again.close());
  await again.load();
  t.deepEqual(
    (await again.list()).map((s: ContainerState) => s.id),
    [kept.id],
  );
  const warning = warnings.find((w) => w.startsWith(`state of container ${c.id}`));
  t.truthy(warning, warnings.join("\n"));
  t.true(warning?.includes(`(${file}) is unreadable:`));
  t.regex(
    String(warning),
    /it is not listed or managed .*put a good state\.json back and restart the daemon/,
  );
  t.true(existsSync(file), "nothing of it is removed");
});

test("a container a crash left half-made is removed on load; the events survive", async (t) => {
  const { dir, sys, engine, make } = setup(t);
  await engine.load();
  const c = await engine.run(spec({ name: "whole" }));
  // As if the daemon died in the middle of run: marker still there, sidecar and netns made.
  const half = await engine.create(spec({ name: "half" }));
  writeFileSync(join(dir, "containers", half.id, "creating"), "");
  // And a folder with only the marker (died before the first state file).
  mkdirSync(join(dir, "containers", "f".repeat(64)));
  writeFileSync(join(dir, "containers", "f".repeat(64), "creating"), "");
  engine.close();
  const again = make();
  await again.load();
  t.deepEqual(
    (await again.list()).map((s: ContainerState) => s.name),
    ["whole"],
  );
  t.deepEqual(readdirSync(join(dir, "containers")), [c.id]);
  t.is(sys.netns.size, 1);
  t.true(existsSync(join(dir, "events.jsonl")));
  t.true(again.events().some((e) => e.action === "create" && e.attributes.name === "half"));
  await again.remove("whole", true);
  t.deepEqual(sys.leftovers(), NOTHING);
});

test("with a health check, a container is registered only while healthy; ports are published while it runs", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-life-"));
  const sys = new FakeSystem();
  const watched: string[] = [];
  const published = new Map<string, number>();
  const engine = new Engine({
    ...sys.parts(dir),
    health: {
      watch: (w) => watched.push(w.id),
      unwatch: (id) => watched.splice(watched.indexOf(id) >>> 0, 1),
    },
    ports: {
      publish: async (id, _address, specs) => {
        published.set(id, specs.length);
        return specs.map((s) => ({ ...s, hostPort: s.hostPort || 40000 }));
      },
      unpublish: async (id) => void published.delete(id),
    },
  });
  t.teardown(() => {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await engine.load();
  const c = await engine.run(
    spec({ name: "hc", service: "hc", healthcheck: { exec: ["true"] }, publish: ["0:8080"] }),
  );
  t.deepEqual(watched, [c.id]);
  t.is(published.get(c.id), 1);
  t.is((await engine.inspect("hc")).publish?.[0]?.hostPort, 40000);
  t.deepEqual(sys.registered.at(-1), []);
  const healthy = { status: "healthy" as const, failingStreak: 0, log: [] };
  engine.healthChanged(c.id, healthy);
  t.deepEqual(
    sys.registered.at(-1)!.map((s) => s.name),
    ["hc"],
  );
  engine.healthChanged(c.id, { status: "unhealthy", failingStreak: 3, log: [] });
  t.deepEqual(sys.registered.at(-1), []);
  t.deepEqual(
    engine
      .events()
      .map((e) => e.action)
      .filter((a) => a.startsWith("health_status")),
    ["health_status: healthy", "health_status: unhealthy"],
  );
  await engine.stop("hc", 1);
  t.deepEqual(watched, []);
  t.false(published.has(c.id));
});

test("a published port in use fails the start before anything runs: start leaves it created, run leaves nothing", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-life-"));
  const sys = new FakeSystem();
  const taken = 18080;
  const engine = new Engine({
    ...sys.parts(dir),
    ports: {
      publish: async (_id, _address, specs) => {
        if (specs.some((s) => s.hostPort === taken)) {
          throw Object.assign(new Error(`cannot publish 127.0.0.1:${taken}: the port is already in use`), {
            code: "PORT_IN_USE",
          });
        }
        return specs;
      },
      unpublish: async () => {},
    },
  });
  t.teardown(() => {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await engine.load();
  const made = await engine.create(spec({ name: "web", publish: [`${taken}:8080`] }));
  const made0 = sys.leftovers();
  await t.throwsAsync(engine.start("web"), { message: /already in use/ });
  t.is((await engine.inspect("web")).status, "created", "as docker start leaves it");
  t.deepEqual(sys.leftovers(), made0, "no sidecar, no app");
  t.false(
    sys.steps.some((s) => s.includes(made.id) && !s.startsWith("wired")),
    sys.steps.join("\n"),
  );
  await engine.remove("web");

  const before = sys.leftovers();
  await t.throwsAsync(engine.run(spec({ name: "web2", publish: [`${taken}:8080`] })), {
    message: /already in use/,
  });
  await t.throwsAsync(engine.inspect("web2"), { message: /no such container|not found/i });
  t.deepEqual(sys.leftovers(), before, "nothing of web2 stays");
});

test("wait answers when a user stops a container that was waiting to restart", async (t) => {
  const { sys, engine } = setup(t);
  await engine.load();
  const c = await engine.run(spec({ name: "loop", restart: "always" }));
  sys.exitApp(c.id, 1);
  // Caught between the exit and the restart, or after it: either way stop ends it and wait answers.
  const waited = engine.wait("loop");
  await engine.stop("loop", 1);
  const r = await waited;
  t.false(r.oomKilled);
  t.is((await engine.inspect("loop")).status, "exited");
});

test("pause freezes the app and takes it out of the registry; unpause, stop and a restarted engine", async (t) => {
  const { sys, engine, make } = setup(t);
  await engine.load();
  const web = await engine.run(spec({ name: "web", service: "web" }));
  const events: string[] = [];
  engine.subscribe((e) => events.push(e.action));
  const registered = () => (sys.registered.at(-1) ?? []).map((s) => s.name);
  t.deepEqual(registered(), ["web"]);

  const paused = await engine.pause("web");
  t.like(paused, { status: "running", paused: true });
  t.is(sys.runc.get(web.id)?.status, "paused");
  t.deepEqual(registered(), [], "a paused app gets no requests");
  await t.throwsAsync(engine.pause("web"), { message: /already paused/ });
  t.throws(() => engine.execStream("web", { cmd: ["true"], tty: false }), {
    message: /is paused; unpause it with 'weft unpause web' first/,
  });
  await t.throwsAsync(engine.kill("web", "SIGTERM"), { message: /paused and would not see the signal/ });

  // A restarted daemon finds it paused (runc says so), not exited.
  engine.close();
  const again = make();
  await again.load();
  t.like(await again.inspect("web"), { status: "running", paused: true });
  t.deepEqual(registered(), []);

  await again.unpause("web");
  t.is(sys.runc.get(web.id)?.status, "running");
  t.deepEqual(registered(), ["web"]);
  await t.throwsAsync(again.unpause("web"), { message: /is not paused/ });

  // Stop thaws first, so the app can act on its signal.
  await again.pause("web");
  const stopped = await again.stop("web", 1);
  t.like(stopped, { status: "exited", paused: undefined, exitCode: 143 });
  await t.throwsAsync(again.pause("web"), { message: /is not running; nothing to pause/ });
  t.deepEqual(events, ["pause"]);
});

test("update changes a running container's limits through runc, a stopped one's for its next start", async (t) => {
  const { dir, sys, engine } = setup(t);
  await engine.load();
  const web = await engine.run(spec({ name: "web", memoryBytes: 64 * 1024 * 1024 }));
  const updated = await engine.update("web", { memoryBytes: 128 * 1024 * 1024, cpus: 0.5 });
  t.like(updated, { memoryBytes: 128 * 1024 * 1024, cpus: 0.5 });
  t.is(sys.updates.length, 1);
  t.is(sys.updates[0]?.id, web.id);
  t.like(sys.updates[0]?.resources, { limits: { memoryBytes: 128 * 1024 * 1024, cpus: 0.5 } });
  const config = JSON.parse(readFileSync(join(dir, "containers", web.id, "config.json"), "utf8"));
  t.like(config.linux.resources, { limits: { memoryBytes: 128 * 1024 * 1024, cpus: 0.5 } });
  await t.throwsAsync(engine.update("web", { memoryBytes: 1024 }), {
    message: /memoryBytes must be at least 6 MiB/,
  });
  t.is((await engine.inspect("web")).memoryBytes, 128 * 1024 * 1024, "a refused update changes nothing");

  await engine.stop("web", 1);
  await engine.update("web", { pids: 50, restartPolicy: { name: "always", maxRetries: 0 } });
  t.is(sys.updates.length, 1, "no runc update for a container that does not run");
  t.like(await engine.inspect("web"), { pids: 50, restartPolicy: { name: "always" } });
});

test("container events carry the container's labels, and label filters must all match", async (t) => {
  const { engine } = setup(t);
  const labels = { "com.docker.compose.project": "dc", "com.docker.compose.service": "api" };
  await engine.run(spec({ name: "dc_api_1", labels }));
  await engine.run(spec({ name: "other", labels: { "com.docker.compose.project": "zz" } }));
  const [created] = engine.events().filter((e) => e.action === "create");
  // Docker's shape: the labels, then name and image (docker-compose's `events` selects by them).
  t.deepEqual(created?.attributes, { ...labels, name: "dc_api_1", image: "busybox" });
  const matching = (label: string[]) =>
    engine
      .events()
      .filter(eventMatcher(new Map([["label", label]])))
      .map((e) => `${e.action} ${e.attributes.name}`);
  t.deepEqual(matching(["com.docker.compose.project=dc"]), ["create dc_api_1", "start dc_api_1"]);
  t.deepEqual(matching(["com.docker.compose.project=dc", "com.docker.compose.service=api"]), [
    "create dc_api_1",
    "start dc_api_1",
  ]);
  t.deepEqual(matching(["com.docker.compose.project=zz", "com.docker.compose.service=api"]), []);
});
