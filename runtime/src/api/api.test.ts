import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { Engine } from "../engine/engine";
import { FakeSystem } from "../engine/fake-parts";
import { EngineClient } from "./client";
import { startApiServer } from "./server";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

async function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), "weft-api-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sys = new FakeSystem();
  const engine = new Engine(sys.parts(join(dir, "state")));
  const socketPath = join(dir, "run", "weft.sock");
  const server = await startApiServer(engine, socketPath, quiet);
  t.teardown(() => server.close());
  return { dir, sys, socketPath, client: new EngineClient(socketPath) };
}

async function status(p: Promise<unknown>): Promise<{ status?: number; message: string }> {
  try {
    await p;
    return { message: "no error" };
  } catch (err) {
    return { status: (err as { status?: number }).status, message: (err as Error).message };
  }
}

async function expectError(
  t: { is(a: unknown, b: unknown): void; regex(s: string, r: RegExp): void },
  p: Promise<unknown>,
  code: number,
  message: RegExp,
): Promise<void> {
  const e = await status(p);
  t.is(e.status, code);
  t.regex(e.message, message);
}

test("create, list, inspect, exec, logs, stop, delete over the socket", async (t) => {
  const { client, socketPath } = await setup(t);
  t.is(statSync(socketPath).mode & 0o777, 0o660);
  t.is(statSync(join(socketPath, "..")).mode & 0o777, 0o755);
  t.is((await client.call("GET", "/_ping")).body, "OK");
  const created = await client.json<{ Id: string; name: string; status: string }>(
    "POST",
    "/containers/create?name=web",
    {
      image: "busybox",
      cmd: ["sleep", "300"],
      service: "web",
      ports: ["8080/http"],
      labels: { version: "v1" },
    },
  );
  t.regex(created.Id, /^[0-9a-f]{64}$/);
  t.is(created.status, "running");
  const list = await client.json<Array<{ name: string }>>("GET", "/containers/json?all=1");
  t.deepEqual(
    list.map((c) => c.name),
    ["web"],
  );
  t.like(await client.json("GET", "/weft/v1/containers/web/json"), { name: "web", service: "web" });
  // Outside /weft/v1 is the Docker Engine API's, not this router's.
  await t.throwsAsync(client.call("GET", "/weft/v2/containers/json"), {
    message: /the Weft API is under \/weft\/v1/,
  });
  t.deepEqual(await client.json("POST", "/containers/web/exec", { cmd: ["sh", "-c", "echo out; exit 4"] }), {
    exitCode: 4,
    stdout: "out\n",
    stderr: "",
  });
  t.is((await client.call("GET", "/containers/web/logs?stdout=1&stderr=1")).body, "");
  t.is((await client.call("POST", "/containers/web/stop?t=1")).status, 204);
  t.deepEqual(await client.json("GET", "/containers/json"), []);
  t.is((await client.call("DELETE", "/containers/web?force=1")).status, 204);
  t.deepEqual(await client.json("GET", "/containers/json?all=1"), []);
});

test("400s name the field", async (t) => {
  const { client } = await setup(t);
  const create = (body: unknown) => client.call("POST", "/containers/create", body);
  await expectError(t, create({ cmd: ["sh"] }), 400, /^image is required \(the name of an imported image\)$/);
  await expectError(
    t,
    create({ image: "busybox", ports: ["http"] }),
    400,
    /^ports\[0\] must be a port number 1-65535/,
  );
  await expectError(t, create({ image: "busybox", labels: { a: 1 } }), 400, /^labels\.a must be a string$/);
  await expectError(t, create({ image: "busybox", cpus: "half" }), 400, /^cpus must be a positive number$/);
  await expectError(
    t,
    create({ image: "busybox", user: "1337" }),
    400,
    /^uid 1337 is reserved for the weft sidecar$/,
  );
  await expectError(t, create("[not json"), 400, /^body must be a JSON object$/);
  await expectError(
    t,
    client.call("POST", "/containers/x/exec", { cmd: "ls" }),
    400,
    /^cmd must be a non-empty array/,
  );
  await expectError(t, client.call("POST", "/containers/x/stop?t=soon"), 400, /^t must be/);
  await expectError(
    t,
    client.call("DELETE", "/containers/x?force=maybe"),
    400,
    /^force must be 1, 0, true or false/,
  );
  await expectError(
    t,
    client.call("POST", "/images/import?name=x", { path: "relative.tar" }),
    400,
    /^path must be the absolute path/,
  );
  // Without ?name= an image archive's own tags are used (a plain rootfs then fails with BAD_NAME).
});

test("404 for unknown containers, images and paths; 409 for a duplicate name and a running rm", async (t) => {
  const { client } = await setup(t);
  await expectError(
    t,
    client.call("GET", "/containers/ghost/json"),
    404,
    /^no such container "ghost"; list them with 'weft ps -a'$/,
  );
  await expectError(
    t,
    client.call("POST", "/containers/create", { image: "nope" }),
    404,
    /image "nope" not found/,
  );
  await expectError(t, client.call("GET", "/nothing/here"), 404, /no such API path/);
  await client.call("POST", "/containers/create?name=web", { image: "busybox" });
  await expectError(
    t,
    client.call("POST", "/containers/create?name=web", { image: "busybox" }),
    409,
    /^container name "web" is already in use; remove it with 'weft rm web' or choose another --name$/,
  );
  await expectError(t, client.call("DELETE", "/containers/web"), 409, /is running/);
});

test("a stale socket file is replaced; a live one is an error naming the flag", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-api-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const engine = new Engine(new FakeSystem().parts(join(dir, "state")));
  const stale = join(dir, "stale.sock");
  writeFileSync(stale, "");
  const server = await startApiServer(engine, stale, quiet);
  t.is((await new EngineClient(stale).call("GET", "/_ping")).body, "OK");
  await server.close();

  const live = join(dir, "live.sock");
  const other = createServer().listen(live);
  t.teardown(() => other.close());
  await new Promise((r) => other.once("listening", r));
  await t.throwsAsync(startApiServer(engine, live, quiet), {
    message: /another weft daemon is listening on .*--socket/,
  });
});

test("a client without a daemon says how to start one", async (t) => {
  const client = new EngineClient("/nonexistent/weft.sock");
  await t.throwsAsync(client.call("GET", "/_ping"), {
    message: "cannot reach the weft daemon at /nonexistent/weft.sock; start it with 'weft daemon'",
  });
});
