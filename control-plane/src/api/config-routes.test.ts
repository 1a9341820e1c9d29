// The config REST API against a real control plane: apply, get, delete, history, all-or-nothing,
// version conflicts, restarts, and config Services taking over implied ones.
import test from "ava";
import { syncEndpoints } from "../grpc-testing";
import { startTestControlPlane, type TestControlPlane } from "../test-support";

const service = (name: string, ports: unknown[] = [{ name: "http", port: 9080, protocol: "http" }]) => ({
  apiVersion: "weft.dev/v1",
  kind: "Service",
  metadata: { name },
  spec: { ports },
});
const route = (name: string, svc: string, weights = [90, 10]) => ({
  apiVersion: "weft.dev/v1",
  kind: "Route",
  metadata: { name },
  spec: {
    service: svc,
    rules: [
      {
        split: weights.map((w, i) => ({ labels: { version: `v${i + 1}` }, weight: w })),
        timeoutMs: 2000,
      },
    ],
  },
});

async function call(
  cp: TestControlPlane,
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
  // biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON bodies
): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://${cp.httpAddress}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": contentType },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

test("apply, get, change, history and delete over REST", async (t) => {
  const cp = await startTestControlPlane(t);
  const applied = await call(cp, "POST", "/api/v1/config/apply", [
    service("reviews"),
    route("reviews", "reviews"),
  ]);
  t.is(applied.status, 200);
  t.deepEqual(applied.body.results, [
    { kind: "Service", name: "reviews", action: "created", version: 1 },
    { kind: "Route", name: "reviews", action: "created", version: 2 },
  ]);

  const again = await call(cp, "POST", "/api/v1/config/apply", [
    service("reviews"),
    route("reviews", "reviews", [50, 50]),
  ]);
  t.deepEqual(
    again.body.results.map((r: { action: string; version: number }) => [r.action, r.version]),
    [
      ["unchanged", 1],
      ["configured", 3],
    ],
  );

  const one = await call(cp, "GET", "/api/v1/config/routes/reviews");
  t.is(one.status, 200);
  t.is(one.body.apiVersion, "weft.dev/v1");
  t.is(one.body.metadata.version, 3);
  t.truthy(one.body.metadata.createdAt);
  t.deepEqual(
    one.body.spec.rules[0].split.map((s: { weight: number }) => s.weight),
    [50, 50],
  );
  t.deepEqual(
    (await call(cp, "GET", "/api/v1/config/routes")).body.map(
      (o: { metadata: { name: string } }) => o.metadata.name,
    ),
    ["reviews"],
  );
  t.deepEqual(
    cp.config.forService("Route", "reviews").map((o) => o.metadata.name),
    ["reviews"],
  );

  const deleted = await call(cp, "DELETE", "/api/v1/config/routes/reviews");
  t.is(deleted.status, 200);
  t.deepEqual(deleted.body.result, { kind: "Route", name: "reviews", action: "deleted", version: 4 });
  t.is((await call(cp, "GET", "/api/v1/config/routes/reviews")).status, 404);

  const history = await call(cp, "GET", "/api/v1/config/routes/reviews/history");
  t.is(history.status, 200);
  t.deepEqual(
    history.body.map((h: { version: number; change: string }) => [h.version, h.change]),
    [
      [2, "created"],
      [3, "configured"],
      [4, "deleted"],
    ],
  );
  t.deepEqual(
    history.body[0].spec.rules[0].split.map((s: { weight: number }) => s.weight),
    [90, 10],
  );
});

test("PUT creates or replaces one object named by the path; YAML bodies work", async (t) => {
  const cp = await startTestControlPlane(t);
  const yaml = `apiVersion: weft.dev/v1\nkind: Service\nmetadata: {name: ratings}\nspec:\n  ports: [{port: 9080, protocol: http}]\n`;
  const created = await call(cp, "PUT", "/api/v1/config/services/ratings", yaml, "application/yaml");
  t.is(created.status, 201);
  t.is(created.body.object.metadata.version, 1);
  const mismatch = await call(cp, "PUT", "/api/v1/config/services/other", yaml, "application/yaml");
  t.is(mismatch.status, 400);
  t.is(mismatch.body.field, "metadata.name");
});

test("errors: 400 names the field and what is allowed; malformed input says where; 404, 405, 413", async (t) => {
  const cp = await startTestControlPlane(t);
  const bad = await call(cp, "POST", "/api/v1/config/apply", [service("a"), { ...route("r", "a", [0, 0]) }]);
  t.is(bad.status, 400);
  t.is(bad.body.field, "spec.rules[0].split");
  t.is(bad.body.document, 1);
  t.truthy(bad.body.allowed);

  const kind = await call(cp, "POST", "/api/v1/config/apply", [{ ...service("a"), kind: "Gateway" }]);
  t.is(kind.status, 400);
  t.is(kind.body.field, "kind");
  t.is(kind.body.allowed, "one of Service, Route, ResiliencePolicy, Telemetry, AuthorizationPolicy");

  const json = await call(cp, "POST", "/api/v1/config/apply", '[{"kind": }]');
  t.is(json.status, 400);
  t.regex(json.body.error, /malformed JSON at line 1, column \d+/);
  const yaml = await call(cp, "POST", "/api/v1/config/apply", "kind: Route\nspec: [a\n", "application/yaml");
  t.is(yaml.status, 400);
  t.regex(yaml.body.error, /malformed YAML at line \d+, column \d+/);
  // An alias without its anchor is found only when the values are built: it was a 500.
  const alias = await call(cp, "POST", "/api/v1/config/apply", "kind: *route\n", "application/yaml");
  t.is(alias.status, 400);
  t.regex(alias.body.error, /malformed YAML in document 1: Unresolved alias/);

  const missing = await call(cp, "POST", "/api/v1/config/apply", [route("r", "nowhere")]);
  t.is(missing.status, 400);
  t.is(missing.body.field, "spec.service");
  t.regex(missing.body.error, /service "nowhere" does not exist; define it .*kind: Service/);

  t.is((await call(cp, "GET", "/api/v1/config/gateways")).status, 404);
  t.is((await call(cp, "DELETE", "/api/v1/config/routes/none")).status, 404);
  t.is((await call(cp, "PATCH", "/api/v1/config/routes/none", "{}")).status, 405);
  const huge = await call(cp, "POST", "/api/v1/config/apply", `[${" ".repeat(1024 * 1024)}]`);
  t.is(huge.status, 413);
  t.is((await call(cp, "GET", "/api/v1/config/services")).body.length, 0, "nothing stored by failed applies");
});

test("apply is all or nothing: one bad document stores nothing and earlier objects stay", async (t) => {
  const cp = await startTestControlPlane(t);
  await call(cp, "POST", "/api/v1/config/apply", [service("reviews"), route("reviews", "reviews")]);
  const changes: string[] = [];
  cp.config.onChange((c) => changes.push(`${c.kind}/${c.name}`));
  const res = await call(cp, "POST", "/api/v1/config/apply", [
    service("ratings"),
    route("reviews", "reviews", [1, 1]),
    route("ratings", "ratings", [0, 0]),
  ]);
  t.is(res.status, 400);
  t.is(res.body.document, 2);
  t.is((await call(cp, "GET", "/api/v1/config/services/ratings")).status, 404);
  t.deepEqual(
    (await call(cp, "GET", "/api/v1/config/routes/reviews")).body.spec.rules[0].split.map(
      (s: { weight: number }) => s.weight,
    ),
    [90, 10],
  );
  t.deepEqual(changes, []);

  // A conflict in the middle of a list rolls back the documents before it too.
  const conflict = await call(cp, "POST", "/api/v1/config/apply", [
    service("ratings"),
    { ...route("reviews", "reviews", [1, 1]), metadata: { name: "reviews", version: 1 } },
  ]);
  t.is(conflict.status, 409);
  t.is((await call(cp, "GET", "/api/v1/config/services/ratings")).status, 404);
  t.is((await call(cp, "GET", "/api/v1/config/routes/reviews/history")).body.length, 1);
});

test("metadata.version gives optimistic concurrency: a stale version is a 409", async (t) => {
  const cp = await startTestControlPlane(t);
  await call(cp, "POST", "/api/v1/config/apply", [service("reviews"), route("reviews", "reviews")]);
  const read = (await call(cp, "GET", "/api/v1/config/routes/reviews")).body;
  const mine = {
    ...route("reviews", "reviews", [70, 30]),
    metadata: { name: "reviews", version: read.metadata.version },
  };
  const theirs = {
    ...route("reviews", "reviews", [20, 80]),
    metadata: { name: "reviews", version: read.metadata.version },
  };
  t.is((await call(cp, "POST", "/api/v1/config/apply", [mine])).status, 200);
  const late = await call(cp, "POST", "/api/v1/config/apply", [theirs]);
  t.is(late.status, 409);
  t.regex(late.body.error, /changed by someone else \(version 3, your document has 2\)/);
  t.is((await call(cp, "DELETE", "/api/v1/config/routes/reviews?version=2")).status, 409);
  t.is((await call(cp, "DELETE", "/api/v1/config/routes/reviews?version=3")).status, 200);
});

test("objects, history and the version counter survive a restart", async (t) => {
  const first = await startTestControlPlane(t);
  await call(first, "POST", "/api/v1/config/apply", [service("reviews"), route("reviews", "reviews")]);
  await call(first, "DELETE", "/api/v1/config/routes/reviews");
  await first.close();
  const second = await startTestControlPlane(t, first.dataDir);
  t.is((await call(second, "GET", "/api/v1/config/services/reviews")).body.metadata.version, 1);
  t.is((await call(second, "GET", "/api/v1/config/routes/reviews/history")).body.length, 2);
  const next = await call(second, "POST", "/api/v1/config/apply", [route("reviews", "reviews")]);
  t.deepEqual(next.body.results[0], { kind: "Route", name: "reviews", action: "created", version: 4 });
});

test("a config Service overrides an implied one, keeps its VIP, and returns it to implied on delete", async (t) => {
  const cp = await startTestControlPlane(t);
  const port = (p: number, protocol = "tcp") => ({ name: "", port: p, protocol });
  const sync = () =>
    syncEndpoints(cp.grpcAddress, {
      source: "daemon:n1",
      endpoints: [
        {
          id: "c1",
          service: "reviews",
          address: "10.88.0.2",
          ports: [port(9080)],
          node: "n1",
          healthy: true,
        },
      ],
    });
  await sync();
  const implied = (await call(cp, "GET", "/api/v1/services/reviews")).body;
  t.is(implied.origin, "implied");

  const seen: string[][] = [];
  cp.registry.onChange((c) => seen.push(c.services));
  await call(cp, "POST", "/api/v1/config/apply", [
    service("reviews", [
      { name: "http", port: 9080, protocol: "http" },
      { name: "grpc", port: 9090, protocol: "http" },
    ]),
  ]);
  const defined = (await call(cp, "GET", "/api/v1/services/reviews")).body;
  t.is(defined.origin, "config");
  t.is(defined.virtualIp, implied.virtualIp);
  t.deepEqual(defined.ports, [
    { name: "http", port: 9080, protocol: "http" },
    { name: "grpc", port: 9090, protocol: "http" },
  ]);
  t.deepEqual(seen, [["reviews"]], "the registry announced the change");

  await sync(); // the daemon resending its endpoints does not undo the config
  t.is((await call(cp, "GET", "/api/v1/services/reviews")).body.origin, "config");

  await call(cp, "POST", "/api/v1/config/apply", [service("fresh")]);
  const fresh = (await call(cp, "GET", "/api/v1/services/fresh")).body;
  t.is(fresh.origin, "config");
  t.regex(fresh.virtualIp, /^10\.96\./);
  t.not(fresh.virtualIp, implied.virtualIp);

  await call(cp, "DELETE", "/api/v1/config/services/reviews");
  const back = (await call(cp, "GET", "/api/v1/services/reviews")).body;
  t.is(back.origin, "implied");
  t.is(back.virtualIp, implied.virtualIp);
  t.deepEqual(back.ports, [port(9080)]);
});
