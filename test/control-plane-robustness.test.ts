// The control plane as a real process under abuse: mutations need the token when one is set, a flood
// of mutations is throttled (429 + Retry-After) while reads stay fast, a few hundred malformed requests
// at every route get 4xx with a reason, and SIGKILL loses no registration or config.
import test from "ava";
import Consul from "consul";
import { syncEndpoints } from "../control-plane/src/grpc-testing";
import { type ControlPlaneProcess, startControlPlaneProcess } from "./support/control-plane";
import { waitFor } from "./support/processes";

async function cp(t: { teardown(fn: () => Promise<void>): void }, args: string[] = [], env = {}) {
  const p = await startControlPlaneProcess({ args, env });
  t.teardown(() => p.close());
  return p;
}

const alive = (p: ControlPlaneProcess) =>
  p.current().child.exitCode === null && p.current().child.signalCode === null;

function register(
  p: ControlPlaneProcess,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${p.httpUrl}/v1/agent/service/register`, {
    method: "PUT",
    body: JSON.stringify(body),
    headers,
  });
}

test("with --token (or WEFT_TOKEN) mutations need it; reads do not", async (t) => {
  for (const p of [await cp(t, ["--token", "s3cret"]), await cp(t, [], { WEFT_TOKEN: "s3cret" })]) {
    const none = await register(p, { Name: "web", Port: 80 });
    t.is(none.status, 401);
    t.regex(((await none.json()) as { error: string }).error, /--token/);
    t.is((await register(p, { Name: "web", Port: 80 }, { Authorization: "Bearer wrong" })).status, 401);
    t.is((await register(p, { Name: "web", Port: 80 }, { Authorization: "Bearer s3cret" })).status, 200);
    t.is((await register(p, { Name: "api", Port: 81 }, { "X-Consul-Token": "s3cret" })).status, 200);
    const put = await fetch(`${p.httpUrl}/api/v1/config/services/web`, { method: "PUT", body: "{}" });
    t.is(put.status, 401, "the config API is covered by the same check");
    t.is((await fetch(`${p.httpUrl}/v1/catalog/services`)).status, 200);
    // A read that hands out a service's private key is not open: with the token only.
    const leaf = `${p.httpUrl}/v1/agent/connect/ca/leaf/web`;
    const anonymous = await fetch(leaf);
    t.is(anonymous.status, 401);
    t.regex(((await anonymous.json()) as { error: string }).error, /GET of a secret needs a token.*--token/);
    const granted = await fetch(leaf, { headers: { "X-Consul-Token": "s3cret" } });
    t.is(granted.status, 200);
    t.regex(((await granted.json()) as { PrivateKeyPEM: string }).PrivateKeyPEM, /BEGIN PRIVATE KEY/);
    t.is((await fetch(`${p.httpUrl}/v1/agent/connect/ca/roots`)).status, 200, "the roots stay public");
    const consul = new Consul({ host: "127.0.0.1", port: p.httpPort, defaults: { token: "s3cret" } });
    await consul.agent.service.deregister("api");
    t.deepEqual(Object.keys((await consul.agent.service.list()) as object), ["web"]);
  }
});

test("a flood of mutations is throttled with 429 and Retry-After; reads keep answering and it recovers", async (t) => {
  const p = await cp(t);
  let throttled = 0;
  let retryAfter: string | null = null;
  // 100 clients re-registering 10 instances as fast as they can: far above 100 changes/s.
  const flood = Array.from({ length: 100 }, async (_, worker) => {
    for (let i = 0; i < 30; i++) {
      const res = await register(p, { Name: "flood", ID: `flood-${worker % 10}`, Port: 80 + i });
      await res.arrayBuffer();
      if (res.status === 429) {
        throttled++;
        retryAfter ??= res.headers.get("retry-after");
      } else if (res.status !== 200) t.fail(`unexpected ${res.status}`);
    }
  });
  const reads = (async () => {
    for (let i = 0; i < 20; i++) {
      // Reads are not throttled and keep answering while mutations are refused (how fast is bench work).
      t.is((await fetch(`${p.httpUrl}/v1/catalog/services`)).status, 200);
    }
  })();
  await Promise.all([...flood, reads]);
  t.true(throttled > 0, "part of the 3000 registrations were refused");
  t.regex(String(retryAfter), /^\d+$/);
  t.true(alive(p));
  await new Promise((r) => setTimeout(r, Number(retryAfter) * 1000));
  t.is((await register(p, { Name: "calm", Port: 80 })).status, 200);
});

/** Requests no client should send: [method, path, body?, headers?]. */
function malformedRequests(): Array<[string, string, string | undefined]> {
  const routes = [
    "/api/v1/services",
    "/api/v1/services/web",
    "/api/v1/services/web/endpoints",
    "/api/v1/proxies",
    "/api/v1/sd/prometheus",
    "/api/v1/config/services",
    "/api/v1/config/services/web",
    "/api/v1/config/routes/web/history",
    "/api/v1/config/apply",
    "/v1/catalog/services",
    "/v1/catalog/service/web",
    "/v1/catalog/nodes",
    "/v1/health/service/web",
    "/v1/agent/service/register",
    "/v1/agent/service/deregister/web",
    "/v1/agent/check/pass/service:web",
    "/v1/agent/check/update/service:web",
    "/v1/agent/services",
    "/v1/agent/checks",
    "/v1/status/leader",
  ];
  const bodies = [
    "{",
    "[",
    "null",
    "42",
    '"text"',
    "[1,2,3]",
    '{"Name": 5, "Port": "x"}',
    '{"Name": "web", "Port": -1}',
    '{"Name": "web", "Check": {"HTTP": 7}}',
    '{"Name": "web", "Meta": {"": "x"}}',
    '{"Name": "web", "Tags": "a,b"}',
    '{"apiVersion": "weft.dev/v1", "kind": "Nope", "metadata": {"name": "x"}}',
    '{"apiVersion": "weft.dev/v1", "kind": "Service", "metadata": {"name": "../etc"}, "spec": {"ports": "all"}}',
    '{"Status": "sideways"}',
    "\u0000\u0001\u0002",
    "a: [unclosed",
    "x".repeat(2 * 1024 * 1024),
  ];
  const queries = [
    "?index=-1",
    "?index=abc",
    "?wait=forever&index=1",
    "?passing=%zz",
    "?tag=%00",
    "?version=0",
  ];
  const out: Array<[string, string, string | undefined]> = [];
  for (const route of routes) {
    for (const body of bodies) out.push([route.includes("register") ? "PUT" : "POST", route, body]);
    for (const method of ["PUT", "DELETE", "PATCH"]) out.push([method, route, bodies[0]]);
    for (const q of queries) out.push(["GET", `${route}${q}`, undefined]);
  }
  const badPaths = [
    "/api/v1/services/%E0%A4%A",
    "/api/v1/services/a%2Fb",
    `/api/v1/services/${"a".repeat(5000)}`,
    "/v1/agent/service/deregister/%00",
    "/v1/health/service/..%2F..%2Fetc",
    "/api/v1/config/nope/x",
    "/api/v1/config/services/x/history/extra",
    "//////",
  ];
  for (const path of badPaths)
    for (const method of ["GET", "PUT"]) out.push([method, path, method === "PUT" ? "{}" : undefined]);
  return out;
}

test("hundreds of malformed requests at every route get 4xx with a reason; the process and data survive", async (t) => {
  const p = await cp(t);
  await syncEndpoints(`127.0.0.1:${p.grpcPort}`, {
    source: "daemon:n1",
    endpoints: [{ id: "c1", service: "web", address: "10.88.0.2", ports: [{ port: 80, protocol: "http" }] }],
  });
  t.is((await register(p, { Name: "web", ID: "web-agent", Port: 81 })).status, 200);
  const before = await (await fetch(`${p.httpUrl}/api/v1/services/web/endpoints`)).text();
  const requests = malformedRequests();
  t.true(requests.length > 300, `${requests.length} requests`);
  const failures: string[] = [];
  for (const [method, path, body] of requests) {
    const res = await fetch(`${p.httpUrl}${path}`, { method, body }).catch((err: Error) => err);
    if (res instanceof Error) {
      failures.push(`${method} ${path}: ${res.message}`);
      continue;
    }
    const text = await res.text();
    if (res.status >= 500)
      failures.push(`${method} ${path.slice(0, 80)} ${body?.slice(0, 40)}: ${res.status} ${text}`);
    if (res.status >= 400 && !/"error"/.test(text))
      failures.push(`${method} ${path.slice(0, 80)}: ${res.status} without a reason`);
  }
  t.deepEqual(failures, []);
  t.true(alive(p), p.output());
  t.is(await (await fetch(`${p.httpUrl}/api/v1/services/web/endpoints`)).text(), before, "data intact");
});

test("after SIGKILL the restarted control plane has every registration, check and config object", async (t) => {
  const p = await cp(t);
  const grpc = `127.0.0.1:${p.grpcPort}`;
  await syncEndpoints(grpc, {
    source: "daemon:n1",
    endpoints: [{ id: "c1", service: "web", address: "10.88.0.2", ports: [{ port: 80, protocol: "http" }] }],
  });
  t.is((await register(p, { Name: "db", ID: "db-1", Port: 5432, Check: { TTL: "1h" } })).status, 200);
  t.is((await fetch(`${p.httpUrl}/v1/agent/check/pass/service:db-1?note=ok`, { method: "PUT" })).status, 200);
  const config = await fetch(`${p.httpUrl}/api/v1/config/services/shop`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      apiVersion: "weft.dev/v1",
      kind: "Service",
      metadata: { name: "shop" },
      spec: { ports: [{ port: 8080, protocol: "http" }] },
    }),
  });
  t.true(config.status < 300, await config.text());
  const snapshot = async () => ({
    services: await (await fetch(`${p.httpUrl}/api/v1/services`)).json(),
    health: await (await fetch(`${p.httpUrl}/v1/health/service/db?passing`)).json(),
    config: await (await fetch(`${p.httpUrl}/api/v1/config/services/shop`)).json(),
  });
  const before = await snapshot();
  await p.kill();
  await p.restart();
  const after = await snapshot();
  t.deepEqual(after, before);
  t.is((after.health as unknown[]).length, 1, "the agent service is still passing");
});

test("--source-ttl: a daemon that stays away, also across a restart, is marked unhealthy, not forgotten", async (t) => {
  // The lease is long enough that a loaded machine never expires it between a sync and the next read;
  // expiry is then awaited by polling, never by sleeping a fixed time.
  const p = await cp(t, ["--source-ttl", "3s"]);
  const grpc = `127.0.0.1:${p.grpcPort}`;
  const sync = () =>
    syncEndpoints(grpc, {
      source: "daemon:gone",
      endpoints: [{ id: "c1", service: "web", address: "10.88.0.2", healthy: true }],
    });
  const healthy = async () =>
    (
      (await (await fetch(`${p.httpUrl}/api/v1/services/web/endpoints`)).json()) as Array<{
        healthy: boolean;
      }>
    ).map((e) => e.healthy);
  await sync();
  t.deepEqual(await healthy(), [true]);
  await waitFor(
    "the lease to expire",
    async () => ((await healthy())[0] === false ? true : undefined),
    30_000,
  );
  t.deepEqual(await healthy(), [false], "kept, but unhealthy");
  await sync();
  t.deepEqual(await healthy(), [true], "healthy again once it syncs");
  await p.kill();
  await p.restart();
  t.deepEqual(await healthy(), [true], "a restart grants a fresh lease");
  await waitFor(
    "the lease to expire again",
    async () => ((await healthy())[0] === false ? true : undefined),
    30_000,
  );
  t.deepEqual(await healthy(), [false]);
});
