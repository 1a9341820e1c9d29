// Consul's service-intentions config entries on a running control plane: an entry written is the
// destination's AuthorizationPolicy, read back as an entry and through the intentions API; cas, other
// kinds and bad entries answer as Consul's clients expect, and a bad entry changes nothing.
import test, { type ExecutionContext } from "ava";
import type { AuthorizationSpec } from "../../../proto/authorization-rules";
import type { SqliteConfigStore } from "../config/index";
import { policyResource } from "../discovery/wire";
import { callApi, startTestControlPlane } from "../test-support";

async function controlPlane(t: ExecutionContext) {
  const cp = await startTestControlPlane(t);
  const store = cp.config as SqliteConfigStore;
  store.apply(
    ["api", "db"].map((name) => ({
      apiVersion: "weft.dev/v1",
      kind: "Service",
      metadata: { name },
      spec: { ports: [{ port: 8080 }] },
    })),
  );
  const call = (method: string, path: string, body?: unknown) => callApi(cp, method, path, body);
  const allowed = async (source: string, destination: string) =>
    (await call("GET", `/v1/connect/intentions/check?source=${source}&destination=${destination}`)).body
      .Allowed as boolean;
  return { store, call, allowed };
}

test("a service-intentions entry sets all of a destination's intentions, by precedence whatever its order", async (t) => {
  const { store, call, allowed } = await controlPlane(t);
  // As `consul config write` sends it (keys as HCL's snake_case would come, too).
  const put = await call("PUT", "/v1/config", {
    Kind: "service-intentions",
    Name: "db",
    Sources: [
      { Name: "*", Action: "deny" },
      { Name: "api", Action: "allow", Type: "consul" },
      {
        name: "reports",
        permissions: [{ action: "allow", http: { path_prefix: "/read", methods: ["GET"] } }],
      },
    ],
  });
  t.is(put.status, 200, JSON.stringify(put.body));
  t.is(put.body, true);
  const [policy] = store.forService("AuthorizationPolicy", "db");
  t.deepEqual((policy?.spec as AuthorizationSpec | undefined)?.rules, [
    { action: "ALLOW", from: ["api"] },
    { action: "ALLOW", from: ["reports"], methods: ["GET"], pathPrefix: "/read" },
    { action: "ALLOW", from: ["reports"] },
    { action: "DENY" },
  ]);
  t.true(await allowed("api", "db"));
  t.false(await allowed("batch", "db"));

  const entry = (await call("GET", "/v1/config/service-intentions/db")).body;
  t.like(entry, { Kind: "service-intentions", Name: "db", ModifyIndex: policy?.metadata.version });
  t.deepEqual(
    entry.Sources.map((s: { Name: string; Action?: string; Precedence: number }) => [
      s.Name,
      s.Action,
      s.Precedence,
    ]),
    [
      ["api", "allow", 9],
      ["reports", undefined, 9],
      ["*", "deny", 8],
    ],
  );
  t.deepEqual(entry.Sources[1].Permissions, [
    { Action: "allow", HTTP: { PathPrefix: "/read", Methods: ["GET"] } },
  ]);
  t.deepEqual((await call("GET", "/v1/config/service-intentions")).body, [entry]);
  t.is((await call("GET", "/v1/connect/intentions/exact?source=api&destination=db")).body.Action, "allow");

  // cas: written only over the version read.
  const stale = await call("PUT", `/v1/config?cas=${entry.ModifyIndex - 1}`, {
    Kind: "service-intentions",
    Name: "db",
    Sources: [],
  });
  t.is(stale.body, false);
  t.is(store.forService("AuthorizationPolicy", "db")[0]?.metadata.version, entry.ModifyIndex);
  // Written again with fewer sources: the rest go.
  t.is(
    (
      await call("PUT", `/v1/config?cas=${entry.ModifyIndex}`, {
        Kind: "service-intentions",
        Name: "db",
        Sources: [{ Name: "api", Action: "deny" }],
      })
    ).body,
    true,
  );
  t.false(await allowed("api", "db"));
  t.true(await allowed("batch", "db"));

  t.is((await call("DELETE", "/v1/config/service-intentions/db")).body, true);
  t.deepEqual(store.forService("AuthorizationPolicy", "db"), []);
  t.is((await call("GET", "/v1/config/service-intentions/db")).status, 404);
  t.deepEqual((await call("GET", "/v1/config/service-intentions")).body, []);
});

test("other kinds are not kept, and a bad entry is a 400 that leaves the stored one as it was", async (t) => {
  const { store, call, allowed } = await controlPlane(t);
  await call("PUT", "/v1/config", {
    Kind: "service-intentions",
    Name: "api",
    Sources: [{ Name: "web", Action: "deny" }],
  });
  const version = store.forService("AuthorizationPolicy", "api")[0]?.metadata.version;
  t.deepEqual((await call("GET", "/v1/config/service-router")).body, []);
  t.is((await call("GET", "/v1/config/proxy-defaults/global")).status, 404);
  const cases: Array<[unknown, RegExp]> = [
    [{ Kind: "service-router", Name: "api" }, /service-router are not kept by weft; use a weft Route/],
    [{ Kind: "no-such-kind", Name: "api" }, /invalid config entry kind: no-such-kind/],
    [{ Name: "api" }, /Kind is required/],
    [{ Kind: "service-intentions", Name: "*" }, /write an entry for each service/],
    [
      { Kind: "service-intentions", Name: "api", Sources: [{ Action: "deny" }] },
      /Sources\[0\]\.Name is required/,
    ],
    [
      {
        Kind: "service-intentions",
        Name: "api",
        Sources: [
          { Name: "web", Action: "deny" },
          { Name: "web", Action: "allow" },
        ],
      },
      /"web" is listed twice/,
    ],
    [
      { Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "perhaps" }] },
      /Sources\[0\]: Action must be/,
    ],
    [
      { Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "deny", Peer: "east" }] },
      /Peer "east" is not supported/,
    ],
    [
      { Kind: "service-intentions", Name: "api", Namespace: "team-a", Sources: [] },
      /Namespace "team-a" is not supported/,
    ],
    [{ Kind: "service-intentions", Name: "api", JWT: { Providers: [] } }, /JWT is not supported/],
    [{ Kind: "service-intentions", Name: "nowhere", Sources: [{ Name: "web", Action: "deny" }] }, /nowhere/],
    [[], /must be a config entry/],
  ];
  for (const [body, reason] of cases) {
    const res = await call("PUT", "/v1/config", body);
    t.is(res.status, 400, JSON.stringify(body));
    t.regex(res.body.error, reason);
  }
  t.is((await call("GET", "/v1/config/not a kind")).status, 400);
  t.is(store.forService("AuthorizationPolicy", "api")[0]?.metadata.version, version);
  t.false(await allowed("web", "api"));
});

test("a source's Description in an entry is read back as written (consul_config_entry compares it)", async (t) => {
  const { call } = await controlPlane(t);
  const put = await call("PUT", "/v1/config", {
    Kind: "service-intentions",
    Name: "db",
    Sources: [
      { Name: "api", Action: "allow", Description: "the API reads and writes" },
      { Name: "*", Action: "deny" },
    ],
  });
  t.is(put.status, 200, JSON.stringify(put.body));
  const entry = (await call("GET", "/v1/config/service-intentions/db")).body;
  t.deepEqual(
    entry.Sources.map((s: { Name: string; Description: string }) => [s.Name, s.Description]),
    [
      ["api", "the API reads and writes"],
      ["*", ""],
    ],
  );
  t.is(
    (await call("GET", "/v1/connect/intentions/exact?source=api&destination=db")).body.Description,
    "the API reads and writes",
  );
});

test("an entry's own Meta is kept as written, replaced by the next write, and never reaches a sidecar", async (t) => {
  // Terraform's consul_config_entry compares the entry it reads with its config, Meta included.
  const { store, call } = await controlPlane(t);
  const entry = (meta?: unknown) => ({
    Kind: "service-intentions",
    Name: "db",
    Sources: [{ Name: "api", Action: "allow" }],
    ...(meta === undefined ? {} : { Meta: meta }),
  });
  t.is((await call("PUT", "/v1/config", entry({ owner: "team-a", ticket: "SEC-9" }))).status, 200);
  const read = async () => (await call("GET", "/v1/config/service-intentions/db")).body;
  t.deepEqual((await read()).Meta, { owner: "team-a", ticket: "SEC-9" });
  t.deepEqual(
    ((await call("GET", "/v1/config/service-intentions")).body as Array<{ Meta: unknown }>).map(
      (e) => e.Meta,
    ),
    [{ owner: "team-a", ticket: "SEC-9" }],
  );
  const [policy] = store.forService("AuthorizationPolicy", "db");
  const pushed = JSON.stringify(policyResource("db", undefined, policy, "1").wire);
  t.false(pushed.includes("SEC-9"), pushed);
  t.true(pushed.includes('"from":["api"]'), pushed);
  // A bad Meta is refused, and the entry stays as it was.
  const version = policy?.metadata.version;
  for (const [meta, reason] of [
    [["a"], /Meta must be an object of string values/],
    [{ n: 1 }, /Meta\["n"\] must be a string/],
    [{ "": "x" }, /Meta key "" must be 1 to 128 characters/],
    [Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])), /Meta holds at most 64 pairs/],
  ] as const) {
    const res = await call("PUT", "/v1/config", entry(meta));
    t.is(res.status, 400, JSON.stringify(meta));
    t.regex(res.body.error, reason);
  }
  t.is(store.forService("AuthorizationPolicy", "db")[0]?.metadata.version, version);
  t.deepEqual((await read()).Meta, { owner: "team-a", ticket: "SEC-9" });
  // The intentions API's writes leave the entry's Meta alone; a write of the entry without Meta
  // leaves none, as Consul's replace does.
  await call("PUT", "/v1/connect/intentions/exact?source=web&destination=db", { Action: "allow" });
  t.deepEqual((await read()).Meta, { owner: "team-a", ticket: "SEC-9" });
  t.is((await call("PUT", "/v1/config", entry())).status, 200);
  t.deepEqual((await read()).Meta, {});
});
