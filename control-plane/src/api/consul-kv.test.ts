// Consul's KV API with the real npm `consul` client against a real control plane (SQLite): set, get,
// recurse, keys with a separator, check-and-set, delete; blocking queries that wake on a KV change;
// raw values and binary bytes; bad input refused with what to do; the store surviving a restart.
import { request } from "node:http";
import test from "ava";
import Consul from "consul";
import { startTestControlPlane, type TestControlPlane } from "../test-support";

function consulFor(cp: TestControlPlane): Consul {
  const [host, port] = cp.httpAddress.split(":");
  return new Consul({ host, port: Number(port) });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function call(cp: TestControlPlane, method: string, path: string, body?: Buffer | string): Promise<Answer> {
  const [host, port] = cp.httpAddress.split(":");
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("the consul client sets, gets, lists and deletes keys, with check-and-set", async (t) => {
  const cp = await startTestControlPlane(t);
  const consul = consulFor(cp);
  t.true(await consul.kv.set("web/config/port", "8080"));
  t.true(await consul.kv.set({ key: "web/config/mode", value: "blue", flags: 42 }));
  t.true(await consul.kv.set("web/motd", "hello"));
  t.true(await consul.kv.set("db/url", "postgres://db"));

  const port = (await consul.kv.get("web/config/port")) as {
    Value: string;
    ModifyIndex: number;
    Flags: number;
  };
  t.is(port.Value, "8080");
  t.is(((await consul.kv.get("web/config/mode")) as { Flags: number }).Flags, 42);
  t.is((await consul.kv.get("web/nope")) as unknown, undefined, "a missing key is undefined, as with Consul");
  const tree = (await consul.kv.get({ key: "web/", recurse: true })) as Array<{ Key: string; Value: string }>;
  t.deepEqual(
    tree.map((e) => `${e.Key}=${e.Value}`),
    ["web/config/mode=blue", "web/config/port=8080", "web/motd=hello"],
  );
  t.deepEqual(await consul.kv.keys({ key: "web/", separator: "/" }), ["web/config/", "web/motd"]);
  t.deepEqual(await consul.kv.keys(""), ["db/url", "web/config/mode", "web/config/port", "web/motd"]);

  // Check-and-set: only against the index the writer read; cas=0 only creates. (The client gives
  // undefined for Consul's "false".)
  t.falsy(await consul.kv.set({ key: "web/config/port", value: "9090", cas: port.ModifyIndex - 1 }));
  t.true(await consul.kv.set({ key: "web/config/port", value: "9090", cas: port.ModifyIndex }));
  t.falsy(await consul.kv.set({ key: "web/config/port", value: "7070", cas: 0 }), "it exists");
  t.true(await consul.kv.set({ key: "web/new", value: "x", cas: 0 }));
  t.is(((await consul.kv.get("web/config/port")) as { Value: string }).Value, "9090");

  t.true(await consul.kv.del("web/motd"));
  t.true(await consul.kv.del({ key: "web/config/", recurse: true }));
  t.deepEqual(await consul.kv.keys(""), ["db/url", "web/new"]);
});

test("a blocking query wakes when a key changes; raw values and binary bytes come back as written", async (t) => {
  const cp = await startTestControlPlane(t);
  await call(cp, "PUT", "/v1/kv/feature/flag", "off");
  const first = await call(cp, "GET", "/v1/kv/feature/flag");
  const index = Number(first.headers["x-consul-index"]);
  t.true(index > 0);
  const blocked = call(cp, "GET", `/v1/kv/feature/flag?index=${index}&wait=10s`);
  await new Promise((r) => setTimeout(r, 100));
  await call(cp, "PUT", "/v1/kv/feature/flag", "on");
  const woke = await blocked;
  t.true(Number(woke.headers["x-consul-index"]) > index);
  t.is(
    Buffer.from(
      (JSON.parse(woke.body.toString()) as Array<{ Value: string }>)[0]?.Value ?? "",
      "base64",
    ).toString(),
    "on",
  );
  // A wait that runs out answers with what is there.
  const timedOut = await call(cp, "GET", `/v1/kv/feature/flag?index=${index + 100}&wait=200ms`);
  t.is(timedOut.status, 200);

  const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
  t.is((await call(cp, "PUT", "/v1/kv/blob", bytes)).body.toString().trim(), "true");
  const raw = await call(cp, "GET", "/v1/kv/blob?raw");
  t.deepEqual(raw.body, bytes);
  const missing = await call(cp, "GET", "/v1/kv/nothing-here");
  t.is(missing.status, 404);
  t.is(missing.body.length, 0);
  t.truthy(missing.headers["x-consul-index"], "a 404 carries the index to block on");
});

test("bad KV requests are refused with what to do, and nothing stored is lost; the store outlives a restart", async (t) => {
  const cp = await startTestControlPlane(t);
  await call(cp, "PUT", "/v1/kv/keep", "safe");
  const cases: Array<[string, string, string | Buffer | undefined, number, RegExp]> = [
    ["PUT", "/v1/kv/big", Buffer.alloc(512 * 1024 + 1), 413, /at most 524288/],
    ["PUT", "/v1/kv/keep?flags=-1", "x", 400, /flags must be a whole number/],
    ["PUT", "/v1/kv/keep?cas=abc", "x", 400, /cas must be a whole number/],
    ["PUT", "/v1/kv/", "x", 400, /Missing key name/],
    ["DELETE", "/v1/kv/", undefined, 400, /or \?recurse for a whole tree/],
    ["PUT", "/v1/kv/keep?acquire=abc", "x", 400, /sessions .* are not supported/],
    ["GET", "/v1/kv/keep?index=x", undefined, 400, /index \\"x\\" must be a non-negative integer/],
    ["GET", "/v1/kv/keep?dc=dc9", undefined, 500, /No path to datacenter \\"dc9\\"/],
    ["POST", "/v1/kv/keep", "x", 405, /use GET, PUT or DELETE/],
    ["GET", `/v1/kv/${"k".repeat(2100)}`, undefined, 400, /at most 2048/],
  ];
  for (const [method, path, body, status, message] of cases) {
    const answer = await call(cp, method, path, body);
    t.is(answer.status, status, `${method} ${path.slice(0, 40)}`);
    t.regex(answer.body.toString(), message, `${method} ${path.slice(0, 40)}`);
  }
  t.is((await call(cp, "GET", "/v1/kv/keep?raw")).body.toString(), "safe", "nothing stored was lost");

  await cp.close();
  const again = await startTestControlPlane(t, cp.dataDir);
  t.is((await call(again, "GET", "/v1/kv/keep?raw")).body.toString(), "safe", "kept across a restart");
});
