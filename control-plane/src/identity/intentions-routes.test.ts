// Consul's intentions API on a running control plane: each write is an AuthorizationPolicy change in
// the config store (versioned, pushed like any other), reads and checks answer from the policies, and
// a bad request changes nothing.
import test, { type ExecutionContext } from "ava";
import type { AuthorizationSpec } from "../../../proto/authorization-rules";
import type { SqliteConfigStore } from "../config/index";
import { policyResource } from "../discovery/wire";
import { callApi, startTestControlPlane } from "../test-support";
import { intentionId } from "./intentions";
import { MADE_BY_INTENTIONS, MADE_BY_LABEL } from "./intentions-routes";

async function meshWithApi(t: ExecutionContext) {
  const cp = await startTestControlPlane(t);
  const store = cp.config as SqliteConfigStore;
  store.apply([
    {
      apiVersion: "weft.dev/v1",
      kind: "Service",
      metadata: { name: "api" },
      spec: { ports: [{ port: 8080 }] },
    },
  ]);
  const call = (method: string, path: string, body?: unknown) => callApi(cp, method, path, body);
  const check = async (source: string) =>
    (await call("GET", `/v1/connect/intentions/check?source=${source}&destination=api`)).body
      .Allowed as boolean;
  return { cp, store, call, check };
}

test("PUT exact writes the destination's policy; GET, list, match, check and the legacy ID forms read it; DELETE takes it back", async (t) => {
  const { store, call, check } = await meshWithApi(t);
  t.deepEqual((await call("GET", "/v1/connect/intentions")).body, []);
  t.true(await check("batch"));

  const put = await call("PUT", "/v1/connect/intentions/exact?source=batch&destination=api", {
    SourceType: "consul",
    Action: "deny",
  });
  t.is(put.status, 200);
  t.is(put.body, true);
  t.truthy(put.index);
  // An ordinary config change: a policy of its own, marked as this API's, with history.
  const [made] = store.forService("AuthorizationPolicy", "api");
  t.is(made?.metadata.name, "api-intentions");
  t.is(made?.metadata.labels[MADE_BY_LABEL], MADE_BY_INTENTIONS);
  t.deepEqual(made?.spec, {
    service: "api",
    rules: [{ action: "DENY", from: ["batch"] }],
    defaultAction: "ALLOW",
  });
  t.false(await check("batch"));
  t.true(await check("web"));

  const exact = await call("GET", "/v1/connect/intentions/exact?source=batch&destination=api");
  t.like(exact.body, {
    ID: intentionId("batch", "api"),
    SourceName: "batch",
    DestinationName: "api",
    Action: "deny",
    Precedence: 9,
  });
  t.deepEqual((await call("GET", "/v1/connect/intentions")).body, [exact.body]);
  t.deepEqual((await call("GET", "/v1/connect/intentions/match?by=destination&name=api")).body, {
    api: [exact.body],
  });
  t.deepEqual((await call("GET", "/v1/connect/intentions/match?by=source&name=web")).body, { web: [] });
  t.is((await call("GET", "/v1/connect/intentions/exact?source=web&destination=api")).status, 404);

  // The legacy forms: by ID, and POST, which refuses a pair that has one.
  const byId = `/v1/connect/intentions/${intentionId("batch", "api")}`;
  t.deepEqual((await call("GET", byId)).body, exact.body);
  t.is((await call("PUT", byId, { Action: "allow" })).body, true);
  t.true(await check("batch"));
  const dup = await call("POST", "/v1/connect/intentions", {
    SourceName: "batch",
    DestinationName: "api",
    Action: "deny",
  });
  t.is(dup.status, 409);
  t.regex(dup.body.error, /duplicate intention found: batch => api/);
  const created = await call("POST", "/v1/connect/intentions", {
    SourceName: "web",
    DestinationName: "api",
    SourceType: "consul",
    Action: "deny",
  });
  t.deepEqual(created.body, { ID: intentionId("web", "api") });
  t.false(await check("web"));
  t.deepEqual(
    (await call("GET", "/v1/connect/intentions/match?by=source&name=web")).body.web.map(
      (i: { DestinationName: string; Action: string }) => [i.DestinationName, i.Action],
    ),
    [["api", "deny"]],
  );

  t.is((await call("DELETE", "/v1/connect/intentions/exact?source=batch&destination=api")).body, true);
  t.is((await call("DELETE", `/v1/connect/intentions/${intentionId("web", "api")}`)).body, true);
  t.true(await check("web"));
  // The policy this API made allowed everything once empty: it is gone, as if never written.
  t.deepEqual(store.forService("AuthorizationPolicy", "api"), []);
  t.deepEqual(
    store.history("AuthorizationPolicy", "api-intentions").map((h) => h.change),
    ["created", "configured", "configured", "configured", "deleted"],
  );
  t.is((await call("GET", byId)).status, 404);
});

test("L7 permissions and '*': written into the policy the user already has, which keeps its name, labels and other rules", async (t) => {
  const { store, call, check } = await meshWithApi(t);
  store.apply([
    {
      apiVersion: "weft.dev/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "api-callers", labels: { team: "payments" } },
      spec: { service: "api", rules: [{ action: "ALLOW", from: ["web"], methods: ["GET"] }] },
    },
  ]);
  t.is(
    (
      await call("PUT", "/v1/connect/intentions/exact?source=batch&destination=api", {
        Permissions: [{ Action: "allow", HTTP: { PathPrefix: "/jobs", Methods: ["post"] } }],
      })
    ).status,
    200,
  );
  t.is(
    (await call("PUT", "/v1/connect/intentions/exact?source=*&destination=api", { Action: "allow" })).status,
    200,
  );
  const [policy] = store.forService("AuthorizationPolicy", "api");
  t.is(policy?.metadata.name, "api-callers");
  t.deepEqual(policy?.metadata.labels, { team: "payments" });
  t.deepEqual((policy?.spec as AuthorizationSpec | undefined)?.rules, [
    { action: "ALLOW", from: ["web"], methods: ["GET"] },
    { action: "ALLOW", from: ["batch"], methods: ["POST"], pathPrefix: "/jobs" },
    { action: "DENY", from: ["batch"] },
    { action: "ALLOW" },
  ]);
  const batch = (await call("GET", "/v1/connect/intentions/exact?source=batch&destination=api")).body;
  t.deepEqual(batch.Permissions, [{ Action: "allow", HTTP: { PathPrefix: "/jobs", Methods: ["POST"] } }]);
  t.is(batch.Action, undefined);
  t.deepEqual(
    (await call("GET", "/v1/connect/intentions")).body.map((i: { SourceName: string }) => i.SourceName),
    ["batch", "web", "*"],
  );
  // L4, as Consul's check: a caller whose every path is not allowed is not.
  t.false(await check("batch"));
  t.true(await check("other"));

  // Deleting what the API wrote leaves the user's policy as it was.
  await call("DELETE", "/v1/connect/intentions/exact?source=batch&destination=api");
  await call("DELETE", "/v1/connect/intentions/exact?source=*&destination=api");
  const after = store.get("AuthorizationPolicy", "api-callers");
  t.deepEqual(after?.spec, { service: "api", rules: [{ action: "ALLOW", from: ["web"], methods: ["GET"] }] });
});

test("bad requests are 400s that say what to send, and change nothing stored", async (t) => {
  const { store, call } = await meshWithApi(t);
  await call("PUT", "/v1/connect/intentions/exact?source=batch&destination=api", { Action: "deny" });
  const before = store.forService("AuthorizationPolicy", "api")[0]?.metadata.version;
  const cases: Array<[string, unknown, RegExp]> = [
    ["source=web&destination=api", { Action: "maybe" }, /Action must be "allow" or "deny", got "maybe"/],
    ["source=web&destination=api", {}, /Action must be "allow" or "deny"/],
    [
      "source=web&destination=api",
      { Action: "allow", Permissions: [{ Action: "allow", HTTP: { PathPrefix: "/" } }] },
      /Action must be empty when Permissions are given/,
    ],
    [
      "source=web&destination=api",
      { Permissions: [{ Action: "allow", HTTP: { PathRegex: "/v[0-9]+" } }] },
      /PathRegex is not supported/,
    ],
    ["source=web&destination=api", { Permissions: [{ Action: "allow", HTTP: {} }] }, /matches nothing/],
    [
      "source=web&destination=api",
      { Permissions: [{ Action: "allow", HTTP: { PathPrefix: "no-slash" } }] },
      /path "no-slash" must start with "\/"/,
    ],
    ["source=web&destination=api", "{not json", /JSON/],
    ["source=web&destination=*", { Action: "deny" }, /an intention names its destination/],
    ["source=web&destination=ghost", { Action: "deny" }, /ghost/],
    ["source=prod/web&destination=api", { Action: "deny" }, /one namespace, "default"/],
    ["source=web", { Action: "deny" }, /'destination' not set/],
    ["source=we b&destination=api", { Action: "deny" }, /not a service name/],
    [
      "source=web&destination=api",
      { SourceType: "external-uri", Action: "deny" },
      /SourceType must be "consul"/,
    ],
    ["source=web&destination=api", { Action: "deny", Description: 7 }, /Description must be a string/],
    ["source=web&destination=api", { Action: "deny", Meta: ["a"] }, /Meta must be an object/],
    ["source=web&destination=api", { Action: "deny", Meta: { a: 1 } }, /Meta\["a"\] must be a string/],
    [
      "source=web&destination=api",
      { Action: "deny", Meta: { a: "x".repeat(513) } },
      /Meta\["a"\] is longer than 512 characters/,
    ],
    [
      "source=web&destination=api",
      { Action: "deny", Meta: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) },
      /Meta holds at most 64 pairs/,
    ],
  ];
  for (const [query, body, reason] of cases) {
    const res = await call("PUT", `/v1/connect/intentions/exact?${query}`, body);
    t.is(res.status, 400, `${query} ${JSON.stringify(body)}`);
    t.regex(res.body.error, reason);
  }
  t.is((await call("GET", "/v1/connect/intentions/match?by=nobody&name=api")).status, 400);
  t.is((await call("GET", "/v1/connect/intentions/not-an-id")).status, 400);
  t.is(store.forService("AuthorizationPolicy", "api")[0]?.metadata.version, before);
  t.is((await call("GET", "/v1/connect/intentions/exact?source=batch&destination=api")).body.Action, "deny");
});

test("Description and Meta are read back as written, by every read, and never reach a sidecar", async (t) => {
  // Terraform's consul_intention reads an intention after each apply and compares description and
  // meta with its config: anything else there is a change on every plan.
  const { store, call } = await meshWithApi(t);
  const notes = { Description: "reports may read", Meta: { owner: "team-a" } };
  const put = await call("PUT", "/v1/connect/intentions/exact?source=reports&destination=api", {
    Action: "allow",
    ...notes,
  });
  t.is(put.status, 200);
  t.like((await call("GET", "/v1/connect/intentions/exact?source=reports&destination=api")).body, notes);
  // The legacy create, as consul_intention sends it, and its read by ID.
  const created = await call("POST", "/v1/connect/intentions", {
    SourceName: "batch",
    DestinationName: "api",
    Action: "deny",
    Description: "batch jobs stay out",
    Meta: { ticket: "SEC-9" },
  });
  t.is(created.status, 200);
  t.like((await call("GET", `/v1/connect/intentions/${created.body.ID}`)).body, {
    Description: "batch jobs stay out",
    Meta: { ticket: "SEC-9" },
  });
  // Without notes, none: nothing made up for the reader to find changed.
  await call("PUT", "/v1/connect/intentions/exact?source=web&destination=api", { Action: "allow" });
  t.like((await call("GET", "/v1/connect/intentions/exact?source=web&destination=api")).body, {
    Description: "",
    Meta: {},
  });
  const list = (await call("GET", "/v1/connect/intentions")).body as Array<{
    SourceName: string;
    Description: string;
  }>;
  t.deepEqual(Object.fromEntries(list.map((i) => [i.SourceName, i.Description])), {
    reports: "reports may read",
    batch: "batch jobs stay out",
    web: "",
  });
  // The stored policy holds them on the rules; what the control plane pushes to sidecars does not.
  const [policy] = store.forService("AuthorizationPolicy", "api");
  t.like(
    (policy?.spec as AuthorizationSpec | undefined)?.rules.find((r) => r.from?.includes("batch")),
    {
      description: "batch jobs stay out",
      meta: { ticket: "SEC-9" },
    },
  );
  t.truthy(policy);
  const pushed = JSON.stringify(policyResource("api", undefined, policy, "1").wire);
  t.false(pushed.includes("batch jobs stay out"), pushed);
  t.false(pushed.includes("SEC-9"), pushed);
  t.true(pushed.includes('"from":["batch"]'), pushed);
});
