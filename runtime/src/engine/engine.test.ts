import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { Engine } from "./engine";
import { type FailPoint, FakeSystem } from "./fake-parts";
import type { EngineEvent, RunSpec } from "./types";
import { validateRunSpec } from "./validate";

function setup(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), "weft-engine-"));
  const sys = new FakeSystem();
  const engine = new Engine(sys.parts(dir));
  // Closed first: its exit watchers and event log would otherwise write into the removed dir again.
  t.teardown(() => {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, sys, engine };
}

function spec(fields: Record<string, unknown>): RunSpec {
  return validateRunSpec({ image: "busybox", cmd: ["sleep", "300"], ...fields });
}

const NOTHING = { addresses: 0, netns: 0, mounts: 0, sidecars: 0, sidecarCgroups: 0, runc: 0 };

test("run starts the app with a sidecar, registers it, and writes its state file", async (t) => {
  const { dir, sys, engine } = setup(t);
  const c = await engine.run(spec({ name: "web", service: "web", ports: ["8080/http"] }));
  t.is(c.status, "running");
  t.regex(c.id, /^[0-9a-f]{64}$/);
  t.truthy(c.sidecarPid);
  t.true(existsSync(join(dir, "containers", c.id, "state.json")));
  t.deepEqual(
    sys.registered.at(-1)!.map((s) => s.name),
    ["web"],
  );
});

test("the sidecar starts and the app runs only once the network is wired", async (t) => {
  const { sys, engine } = setup(t);
  const c = await engine.run(spec({ name: "web", service: "web" }));
  t.deepEqual(sys.steps, [`wired ${c.id}`, `sidecar ${c.id}`, `start ${c.id}`]);
});

test("create returns once the network is wired; a wiring failure leaves nothing", async (t) => {
  const { dir, sys, engine } = setup(t);
  const c = await engine.create(spec({ name: "made" }));
  t.deepEqual(sys.steps, [`wired ${c.id}`]);
  sys.failAt = "wire";
  await t.throwsAsync(engine.create(spec({ name: "broken" })), { message: "injected failure at wire" });
  t.deepEqual(sys.leftovers(), { ...NOTHING, addresses: 1, netns: 1, mounts: 1 });
  t.deepEqual(readdirSync(join(dir, "containers")), [c.id]);
  t.deepEqual(
    (await engine.list(true)).map((x) => x.name),
    ["made"],
  );
});

for (const point of ["allocate", "network", "wire", "sidecar", "mount", "spec", "runc"] as FailPoint[]) {
  test(`a failure at ${point} undoes every step already made`, async (t) => {
    const { dir, sys, engine } = setup(t);
    const kept = await engine.run(spec({ name: "kept" }));
    sys.failAt = point;
    await t.throwsAsync(engine.run(spec({ name: "broken" })), { message: `injected failure at ${point}` });
    // Only what belongs to "kept" remains: the failed run neither leaks nor removes anything.
    t.deepEqual(sys.leftovers(), {
      ...NOTHING,
      addresses: 1,
      netns: 1,
      mounts: 1,
      sidecars: 1,
      sidecarCgroups: 1,
      runc: 1,
    });
    t.deepEqual(readdirSync(join(dir, "containers")), [kept.id]);
    t.deepEqual(
      (await engine.list()).map((c) => c.name),
      ["kept"],
    );
    // The name of the failed run is free again.
    sys.failAt = undefined;
    t.is((await engine.run(spec({ name: "broken" }))).status, "running");
  });
}

test("a duplicate name is refused before anything is made", async (t) => {
  const { sys, engine } = setup(t);
  await engine.run(spec({ name: "web" }));
  const before = sys.leftovers();
  await t.throwsAsync(engine.run(spec({ name: "web" })), {
    message: `container name "web" is already in use; remove it with 'weft rm web' or choose another --name`,
  });
  t.deepEqual(sys.leftovers(), before);
});

test("uid 1337 is refused, from the spec or from the image", async (t) => {
  const { sys, engine } = setup(t);
  await t.throwsAsync(engine.run(spec({ user: "1337" })), {
    message: "uid 1337 is reserved for the weft sidecar",
  });
  sys.images.set("proxyish", {
    ...sys.images.get("busybox")!,
    name: "proxyish",
    config: { ...sys.images.get("busybox")!.config, user: "1337:1337" },
  });
  await t.throwsAsync(engine.run(spec({ image: "proxyish" })), {
    message: "uid 1337 is reserved for the weft sidecar",
  });
  t.deepEqual(sys.leftovers(), NOTHING);
});

test("a missing image is refused with the image store's hint", async (t) => {
  const { sys, engine } = setup(t);
  const err = await t.throwsAsync(engine.run(spec({ image: "nope" })));
  t.is((err as Error & { code: string }).code, "IMAGE_NOT_FOUND");
  t.deepEqual(sys.leftovers(), NOTHING);
});

test("validation names the field", (t) => {
  t.throws(() => validateRunSpec({}), { message: /^image is required/ });
  t.throws(() => validateRunSpec({ image: "x", ports: ["99999"] }), {
    message: /^ports\[0\] must be a port/,
  });
  t.throws(() => validateRunSpec({ image: "x", ports: ["8080/udp"] }), { message: /^ports\[0\] protocol/ });
  t.throws(() => validateRunSpec({ image: "x", ports: ["15001"] }), {
    message: /^ports\[0\]: port 15001 is used by the sidecar/,
  });
  t.notThrows(() => validateRunSpec({ image: "x", ports: ["15001"], sidecar: false }));
  t.throws(() => validateRunSpec({ image: "x", env: ["NOEQUALS"] }), {
    message: /^env\[0\] must be KEY=VALUE/,
  });
  t.throws(() => validateRunSpec({ image: "x", memoryBytes: -1 }), {
    message: /^memoryBytes must be a positive integer/,
  });
  t.throws(() => validateRunSpec({ image: "x", name: "bad name" }), {
    message: /^name "bad name" is invalid/,
  });
  t.deepEqual(validateRunSpec({ image: "x", ports: ["8080/http", 9090] }).ports, [
    { port: 8080, protocol: "http" },
    { port: 9090, protocol: "auto" },
  ]);
});

test("stop deregisters before signalling, SIGKILLs after the grace period, and stops the sidecar", async (t) => {
  const { sys, engine } = setup(t);
  const c = await engine.run(spec({ name: "stubborn", service: "s" }));
  sys.ignoreSigterm = true;
  const registeredBefore = sys.registered.length;
  await engine.stop("stubborn", 0);
  t.deepEqual(sys.registered[registeredBefore], [], "deregistered first");
  t.deepEqual(sys.signals.get(c.id), ["SIGTERM", "SIGKILL"]);
  t.is(sys.sidecars.size, 0);
  t.is((await engine.inspect("stubborn")).status, "exited");
});

test("rm refuses a running container without force; rm -f leaves nothing", async (t) => {
  const { dir, sys, engine } = setup(t);
  await engine.run(spec({ name: "web" }));
  await t.throwsAsync(engine.remove("web"), { message: /is running; stop it with 'weft stop web'/ });
  await engine.remove("web", true);
  t.deepEqual(sys.leftovers(), NOTHING);
  t.deepEqual(readdirSync(join(dir, "containers")), []);
  await t.throwsAsync(engine.inspect("web"), {
    message: `no such container "web"; list them with 'weft ps -a'`,
  });
});

test("a restarted engine adopts running containers and marks dead ones exited", async (t) => {
  const { dir, sys, engine } = setup(t);
  const alive = await engine.run(spec({ name: "alive", service: "a" }));
  const dead = await engine.run(spec({ name: "dead", service: "d" }));
  sys.exitApp(dead.id, 3);
  const again = new Engine(sys.parts(dir));
  await again.load();
  t.is((await again.inspect("alive")).status, "running");
  t.is((await again.inspect(alive.id.slice(0, 12))).name, "alive");
  t.like(await again.inspect("dead"), { status: "exited", exitCode: 3 });
  t.deepEqual(
    sys.registered.at(-1)!.map((s) => s.name),
    ["alive"],
  );
});

test("exec runs the command and returns its exit code and output", async (t) => {
  const { engine } = setup(t);
  await engine.run(spec({ name: "web" }));
  const r = await engine.exec("web", ["sh", "-c", "echo hi; exit 3"]);
  t.deepEqual(r, { exitCode: 3, stdout: "hi\n", stderr: "" });
});

test("an app that exits by itself is shown exited and leaves the registry", async (t) => {
  const { sys, engine } = setup(t);
  const c = await engine.run(spec({ name: "short", service: "s" }));
  sys.exitApp(c.id, 0);
  t.deepEqual(
    (await engine.list()).map((s) => [s.name, s.status]),
    [["short", "exited"]],
  );
  t.deepEqual(sys.registered.at(-1), []);
  // rm (no force needed) also stops the sidecar that outlived its app.
  await engine.remove("short");
  t.deepEqual(sys.leftovers(), NOTHING);
});

test("rename: the registry, the state file and every verb use the new name; the old one is free", async (t) => {
  const { dir, sys, engine } = setup(t);
  const c = await engine.run(spec({ name: "web", service: "web" }));
  await engine.run(spec({ name: "db" }));
  const events: EngineEvent[] = [];
  engine.subscribe((e) => events.push(e));
  await engine.rename("web", "web-old");
  t.deepEqual(
    sys.registered
      .at(-1)!
      .map((s) => s.name)
      .sort(),
    ["db", "web-old"],
    "the registry hears the new workload name",
  );
  t.is((await engine.inspect("web-old")).id, c.id);
  await t.throwsAsync(engine.inspect("web"), { message: /web/ });
  t.like(events.at(-1), {
    action: "rename",
    attributes: { name: "web-old", oldName: "/web", image: "busybox" },
  });
  t.is(JSON.parse(readFileSync(join(dir, "containers", c.id, "state.json"), "utf8")).name, "web-old");
  // The old name can be used again at once.
  await engine.create(spec({ name: "web" }));

  await t.throwsAsync(engine.rename("web-old", "db"), { message: /"db" is already in use/ });
  await t.throwsAsync(engine.rename("web-old", "bad name"), { message: /name "bad name" is invalid/ });
  t.is((await engine.inspect(c.id)).name, "web-old", "a refused rename changes nothing");
  // A restarted daemon finds it by its new name.
  engine.close();
  const again = new Engine(sys.parts(dir));
  t.teardown(() => again.close());
  await again.load();
  t.is((await again.inspect("web-old")).id, c.id);
});
