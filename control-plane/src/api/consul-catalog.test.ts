// Consul's catalog registration with the real npm `consul` client, as Terraform's consul_service and
// consul-esm register an external service: on a node of its own, with check statuses they set.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import Consul from "consul";
import { startTestControlPlane, type TestControlPlane } from "../test-support";

function consulFor(cp: TestControlPlane): Consul {
  const [host, port] = cp.httpAddress.split(":");
  return new Consul({ host, port: Number(port) });
}

type Health = {
  Node: { Node: string };
  Service: { ID: string; Address: string; Port: number; Tags: string[] };
  Checks: Array<{ CheckID: string; Status: string; Output: string }>;
};

test("an external service registered in the catalog is found, follows the statuses it is given, and is deregistered", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-catalog-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cp = await startTestControlPlane(t, dir);
  const consul = consulFor(cp);
  await consul.catalog.register({
    node: "db-host",
    address: "192.0.2.10",
    nodemeta: { "external-node": "true" },
    service: { id: "pg-1", service: "postgres", tags: ["primary"], port: 5432 },
    checks: [
      {
        checkid: "pg-alive",
        name: "postgres alive",
        serviceid: "pg-1",
        status: "passing",
      },
      { checkid: "host-up", name: "host reachable", status: "passing" },
    ],
  });
  const found = (await consul.health.service({ service: "postgres", passing: true })) as Health[];
  t.is(found.length, 1);
  t.like(found[0], {
    Node: { Node: "db-host" },
    Service: { ID: "pg-1", Address: "192.0.2.10", Port: 5432, Tags: ["primary"] },
  });
  t.deepEqual(
    found[0]!.Checks.map((c) => [c.CheckID, c.Status]),
    [
      ["serfHealth", "passing"],
      ["pg-alive", "passing"],
      ["host-up", "passing"],
    ],
  );
  const node = (await consul.catalog.node.services("db-host")) as {
    Node: { Address: string };
    Services: Record<string, unknown>;
  };
  t.is(node.Node.Address, "192.0.2.10");
  t.deepEqual(Object.keys(node.Services), ["pg-1"]);
  t.true(((await consul.catalog.node.list()) as Array<{ Node: string }>).some((n) => n.Node === "db-host"));
  // consul-esm finds its external nodes by their metadata.
  await fetch(`http://${cp.httpAddress}/v1/agent/service/register`, {
    method: "PUT",
    body: JSON.stringify({ Name: "local", Port: 1 }),
  });
  const external = (await (
    await fetch(`http://${cp.httpAddress}/v1/catalog/nodes?node-meta=external-node:true`)
  ).json()) as Array<{ Node: string; Meta: Record<string, string> }>;
  t.deepEqual(
    external.map((n) => [n.Node, n.Meta["external-node"]]),
    [["db-host", "true"]],
  );
  const withMeta = (await (
    await fetch(`http://${cp.httpAddress}/v1/health/service/postgres?node-meta=external-node:true`)
  ).json()) as Array<{ Node: { Meta: Record<string, string> } }>;
  t.deepEqual(withMeta[0]?.Node.Meta, { "external-node": "true", "weft-source": "catalog" });
  t.false(
    ((await consul.agent.members()) as Array<{ Name: string }>).some((m) => m.Name === "db-host"),
    "an external node runs no agent: not a member",
  );
  // The mesh sees it too: Weft's own registry.
  const rest = (await (
    await fetch(`http://${cp.httpAddress}/api/v1/services/postgres/endpoints`)
  ).json()) as Array<{ id: string; healthy: boolean; source: string }>;
  t.like(rest[0], { id: "pg-1", healthy: true, source: "catalog" });

  // A node check going critical takes every service on the node out of ?passing.
  await consul.catalog.register({
    node: "db-host",
    address: "192.0.2.10",
    check: { checkid: "host-up", name: "host reachable", status: "critical" },
  });
  t.deepEqual(await consul.health.service({ service: "postgres", passing: true }), []);
  t.deepEqual(
    ((await consul.health.state("critical")) as Array<{ CheckID: string }>).map((c) => c.CheckID),
    ["host-up"],
  );

  // It survives a restart of the control plane.
  await cp.close();
  const again = await startTestControlPlane(t, dir, { sourceTtlMs: 300 });
  const after = (await consulFor(again).health.service("postgres")) as Health[];
  t.deepEqual(
    after.map((e) => e.Service.ID),
    ["pg-1"],
  );
  t.is(after[0]!.Checks.find((c) => c.CheckID === "host-up")?.Status, "critical");
  await consulFor(again).catalog.register({
    node: "db-host",
    address: "192.0.2.10",
    check: { checkid: "host-up", name: "host reachable", status: "passing" },
  });
  // Past the lease a gRPC source has (300 ms here): nothing but its registrations syncs this source,
  // and its statuses, not a lease, decide its health.
  await new Promise((r) => setTimeout(r, 1000));
  t.deepEqual(
    ((await consulFor(again).health.service({ service: "postgres", passing: true })) as Health[]).map(
      (e) => e.Service.ID,
    ),
    ["pg-1"],
  );

  await consulFor(again).catalog.deregister({ node: "db-host", serviceid: "pg-1" });
  t.deepEqual(await consulFor(again).health.service("postgres"), []);
  await consulFor(again).catalog.deregister("db-host");
  t.false(
    ((await consulFor(again).catalog.node.list()) as Array<{ Node: string }>).some(
      (n) => n.Node === "db-host",
    ),
  );
});

test("bad catalog registrations are 400s naming the field; nothing is stored", async (t) => {
  const cp = await startTestControlPlane(t);
  const put = (body: unknown) =>
    fetch(`http://${cp.httpAddress}/v1/catalog/register`, { method: "PUT", body: JSON.stringify(body) });
  const cases: Array<[unknown, RegExp]> = [
    [{ Address: "192.0.2.1" }, /Node is required/],
    [{ Node: "n" }, /Address \(the node's\) is required/],
    [{ Node: "n", Address: "db.example.com" }, /must be an IP address/],
    [{ Node: "n", Address: "192.0.2.1", Service: { Port: 1 } }, /Service\.Service .* is required/],
    [
      { Node: "n", Address: "192.0.2.1", Service: { Service: "s", Port: "80" } },
      /Service\.Port must be an integer/,
    ],
    [
      { Node: "n", Address: "192.0.2.1", Check: { Name: "x", Status: "passing" } },
      /Check\.CheckID is required/,
    ],
    [{ Node: "n", Address: "192.0.2.1", Check: { CheckID: "c", Status: "ok" } }, /Check\.Status must be/],
    [
      { Node: "n", Address: "192.0.2.1", Check: { CheckID: "c", ServiceID: "nope" } },
      /service ID "nope", which node "n" does not have/,
    ],
  ];
  for (const [body, reason] of cases) {
    const res = await put(body);
    t.is(res.status, 400, JSON.stringify(body));
    t.regex(((await res.json()) as { error: string }).error, reason, JSON.stringify(body));
  }
  t.is((await put({ Node: "a", Address: "192.0.2.1", Service: { ID: "s1", Service: "s" } })).status, 200);
  const vip = await put({
    Node: "a",
    Address: "192.0.2.1",
    Service: { ID: "s2", Service: "s", Address: "10.96.0.9" },
  });
  t.is(vip.status, 400);
  t.regex(
    ((await vip.json()) as { error: string }).error,
    /address 10\.96\.0\.9 is in the service range 10\.96\.0\.0\/16/,
  );
  const twice = await put({ Node: "b", Address: "192.0.2.2", Service: { ID: "s1", Service: "s" } });
  t.is(twice.status, 400);
  t.regex(((await twice.json()) as { error: string }).error, /service ID "s1" is registered on node "a"/);
  const rest = (await (await fetch(`http://${cp.httpAddress}/api/v1/services/s/endpoints`)).json()) as Array<{
    id: string;
    node: string;
  }>;
  t.deepEqual(
    rest.map((e) => [e.id, e.node]),
    [["s1", "a"]],
  );
});

test("re-registering in the catalog with a new check status or tag wakes blocking queries; the same registration does not", async (t) => {
  const cp = await startTestControlPlane(t);
  const register = (status: string, tags: string[]) =>
    fetch(`http://${cp.httpAddress}/v1/catalog/register`, {
      method: "PUT",
      body: JSON.stringify({
        Node: "esm-block-host",
        Address: "192.0.2.40",
        NodeMeta: { "external-node": "true", rack: "r1" },
        Service: { ID: "cache-1", Service: "blockcache", Tags: tags, Port: 6379 },
        Checks: [{ CheckID: "cache-alive", ServiceID: "cache-1", Status: status }],
      }),
    });
  t.is((await register("warning", ["a"])).status, 200);
  const indexOf = async (res: Response) => Number(res.headers.get("X-Consul-Index"));
  const base = await indexOf(await fetch(`http://${cp.httpAddress}/v1/health/service/blockcache`));
  const block = async (index: number, wait: string) => {
    const start = Date.now();
    const res = await fetch(
      `http://${cp.httpAddress}/v1/health/service/blockcache?index=${index}&wait=${wait}`,
    );
    return { ms: Date.now() - start, index: await indexOf(res), body: (await res.json()) as Health[] };
  };
  // warning -> critical: the instance was unhealthy and stays so, but its check changed.
  const [critical] = await Promise.all([
    block(base, "5s"),
    new Promise((r) => setTimeout(r, 200)).then(() => register("critical", ["a"])),
  ]);
  t.true(critical.ms < 3000, `held ${critical.ms} ms`);
  t.true(critical.index > base);
  t.is(critical.body[0]!.Checks.find((c) => c.CheckID === "cache-alive")?.Status, "critical");
  // A new tag.
  const [tagged] = await Promise.all([
    block(critical.index, "5s"),
    new Promise((r) => setTimeout(r, 200)).then(() => register("critical", ["a", "b"])),
  ]);
  t.true(tagged.ms < 3000 && tagged.index > critical.index, `held ${tagged.ms} ms`);
  t.deepEqual(tagged.body[0]!.Service.Tags, ["a", "b"]);
  // The same registration again (what consul-esm and Terraform re-send): no change, held to the end.
  const [same] = await Promise.all([block(tagged.index, "1s"), register("critical", ["a", "b"])]);
  t.true(same.ms >= 900, `held ${same.ms} ms`);
  t.is(same.index, tagged.index);
});

test("a catalog service's TaggedAddresses, Weights and EnableTagOverride are shown as registered", async (t) => {
  const cp = await startTestControlPlane(t);
  const res = await fetch(`http://${cp.httpAddress}/v1/catalog/register`, {
    method: "PUT",
    body: JSON.stringify({
      Node: "esm-tagged-host",
      Address: "192.0.2.80",
      Service: {
        ID: "tagged-db-1",
        Service: "taggeddb",
        Port: 5432,
        TaggedAddresses: { wan: { Address: "198.51.100.8", Port: 15432 } },
        Weights: { Passing: 5, Warning: 2 },
        EnableTagOverride: true,
      },
    }),
  });
  t.is(res.status, 200);
  const [entry] = (await (
    await fetch(`http://${cp.httpAddress}/v1/catalog/service/taggeddb`)
  ).json()) as Array<Record<string, unknown>>;
  t.like(entry, {
    // The catalog adds no lan_ipv4/wan_ipv4: that is the agent's doing in Consul.
    ServiceTaggedAddresses: { wan: { Address: "198.51.100.8", Port: 15432 } },
    ServiceWeights: { Passing: 5, Warning: 2 },
    ServiceEnableTagOverride: true,
  });
  t.deepEqual(Object.keys(entry!.ServiceTaggedAddresses as object), ["wan"]);
});
