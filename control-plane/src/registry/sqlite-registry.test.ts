import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { openRegistryDatabase } from "../store/database";
import { SqliteRegistry } from "./sqlite-registry";
import type { EndpointInput, RegistryChange } from "./types";

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "weft-reg-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(dir: string, serviceCidr?: string): SqliteRegistry {
  return new SqliteRegistry(openRegistryDatabase(dir), { serviceCidr });
}

function ep(id: string, service: string, address: string, extra: Partial<EndpointInput> = {}): EndpointInput {
  return {
    id,
    service,
    address,
    ports: [{ name: "", port: 9080, protocol: "http" }],
    labels: {},
    workload: id,
    node: "n1",
    healthy: true,
    ...extra,
  };
}

test("services get distinct virtual IPs from the range, skipping .0 and .1", (t) => {
  const reg = open(tempDir(t));
  t.teardown(() => reg.close());
  reg.syncEndpoints("daemon:a", [ep("c1", "reviews", "10.88.0.2"), ep("c2", "ratings", "10.88.0.3")], []);
  t.is(reg.getService("reviews")?.virtualIp, "10.96.0.2");
  t.is(reg.getService("ratings")?.virtualIp, "10.96.0.3");
});

test("a service keeps its virtual IP while its endpoints come and go and across a restart", (t) => {
  const dir = tempDir(t);
  const reg = open(dir);
  reg.syncEndpoints("daemon:a", [ep("c1", "reviews", "10.88.0.2")], []);
  const vip = reg.getService("reviews")!.virtualIp;
  reg.syncEndpoints("daemon:a", [], []);
  t.deepEqual(reg.listEndpoints("reviews"), []);
  reg.syncEndpoints("daemon:a", [ep("c9", "other", "10.88.0.9"), ep("c2", "reviews", "10.88.0.4")], []);
  t.is(reg.getService("reviews")!.virtualIp, vip);
  const index = reg.index();
  reg.close();

  const again = open(dir);
  t.teardown(() => again.close());
  t.is(again.getService("reviews")!.virtualIp, vip);
  t.is(again.getService("other")!.virtualIp, "10.96.0.3");
  t.deepEqual(
    again.listEndpoints("reviews").map((e) => [e.id, e.address, e.source]),
    [["c2", "10.88.0.4", "daemon:a"]],
  );
  t.is(again.index(), index, "the change index survives the restart");
  again.syncEndpoints("daemon:a", [ep("c3", "new", "10.88.0.5")], []);
  t.is(again.getService("new")!.virtualIp, "10.96.0.4", "no VIP handed out twice after a restart");
});

test("a sync replaces only its own source's endpoints", (t) => {
  const reg = open(tempDir(t));
  t.teardown(() => reg.close());
  reg.syncEndpoints("daemon:a", [ep("c1", "reviews", "10.88.0.2"), ep("c2", "reviews", "10.88.0.3")], []);
  reg.syncEndpoints("daemon:b", [ep("c1", "reviews", "10.89.0.2")], []);
  reg.syncEndpoints("daemon:a", [ep("c2", "reviews", "10.88.0.3")], []);
  t.deepEqual(
    reg.listEndpoints("reviews").map((e) => `${e.source}/${e.id}`),
    ["daemon:a/c2", "daemon:b/c1"],
  );
  reg.syncEndpoints("daemon:b", [], []);
  t.deepEqual(
    reg.listEndpoints("reviews").map((e) => `${e.source}/${e.id}`),
    ["daemon:a/c2"],
  );
});

test("services named by endpoints are implied with the declared ports; healthy is kept as sent", (t) => {
  const reg = open(tempDir(t));
  t.teardown(() => reg.close());
  reg.syncEndpoints(
    "daemon:a",
    [ep("c1", "reviews", "10.88.0.2", { healthy: false }), ep("c2", "ratings", "10.88.0.3")],
    [{ name: "reviews", ports: [{ name: "web", port: 9080, protocol: "http" }], labels: { team: "books" } }],
  );
  const reviews = reg.getService("reviews")!;
  t.is(reviews.origin, "implied");
  t.deepEqual(reviews.ports, [{ name: "web", port: 9080, protocol: "http" }]);
  t.deepEqual(reviews.labels, { team: "books" });
  t.deepEqual(reg.getService("ratings")!.ports, [{ name: "", port: 9080, protocol: "http" }]);
  t.false(reg.listEndpoints("reviews")[0]!.healthy);
  t.true(reg.listEndpoints("ratings")[0]!.healthy);
});

test("the index grows only when something changes, and listeners hear which services changed", (t) => {
  const reg = open(tempDir(t));
  t.teardown(() => reg.close());
  const changes: RegistryChange[] = [];
  reg.onChange((c) => changes.push(c));
  const start = reg.index();
  reg.syncEndpoints("daemon:a", [ep("c1", "reviews", "10.88.0.2")], []);
  t.is(reg.index(), start + 1);
  reg.syncEndpoints("daemon:a", [ep("c1", "reviews", "10.88.0.2")], []);
  t.is(reg.index(), start + 1, "resending the same state is not a change");
  reg.syncEndpoints("daemon:a", [ep("c1", "reviews", "10.88.0.7")], []);
  t.deepEqual(changes, [
    { index: start + 1, services: ["reviews"] },
    { index: start + 2, services: ["reviews"] },
  ]);
  const [e] = reg.listEndpoints("reviews");
  t.is(e!.createIndex, start + 1);
  t.is(e!.modifyIndex, start + 2);
});

test("an endpoint a source names as touched is a change although its fields are the same", (t) => {
  // The Consul agent and catalog keep tags and check statuses beside the registry: a change to them
  // must still raise the index (X-Consul-Index) and the endpoint's ModifyIndex, and tell listeners.
  const reg = open(tempDir(t));
  t.teardown(() => reg.close());
  const changes: RegistryChange[] = [];
  reg.onChange((c) => changes.push(c));
  reg.syncEndpoints("agent", [ep("a1", "tagged", "10.88.0.2"), ep("a2", "other", "10.88.0.3")], []);
  const start = reg.index();
  reg.syncEndpoints("agent", [ep("a1", "tagged", "10.88.0.2"), ep("a2", "other", "10.88.0.3")], [], {
    touched: new Set(["a1"]),
  });
  t.is(reg.index(), start + 1);
  t.deepEqual(changes.at(-1), { index: start + 1, services: ["tagged"] });
  const [a1] = reg.listEndpoints("tagged");
  t.is(a1!.modifyIndex, start + 1);
  t.true(a1!.createIndex < a1!.modifyIndex, "a touch keeps when the endpoint was created");
  t.is(reg.listEndpoints("other")[0]!.modifyIndex, start, "an endpoint not touched keeps its index");
  reg.syncEndpoints("agent", [ep("a1", "tagged", "10.88.0.2"), ep("a2", "other", "10.88.0.3")], [], {
    touched: new Set(),
  });
  t.is(reg.index(), start + 1, "nothing touched, nothing changed: no new index");
});

test("a too small service range fails with a message naming the flag", (t) => {
  const reg = open(tempDir(t), "10.99.0.0/30");
  t.teardown(() => reg.close());
  reg.syncEndpoints("daemon:a", [ep("c1", "one", "10.88.0.2")], []);
  const error = t.throws(() => reg.syncEndpoints("daemon:a", [ep("c2", "two", "10.88.0.3")], []));
  t.regex(error.message, /--service-cidr/);
  t.deepEqual(
    reg.listServices().map((s) => s.name),
    ["one"],
    "the failed sync stored nothing",
  );
  t.is(reg.listEndpoints("one").length, 1);
});

test("removeIdleImplied removes only implied services without endpoints, and keeps their VIPs for their names", (t) => {
  const dir = tempDir(t);
  const reg = open(dir, "10.96.0.0/29"); // .2 to .6: five VIPs
  const changes: RegistryChange[] = [];
  reg.onChange((c) => changes.push(c));
  reg.syncEndpoints("daemon:a", [ep("c1", "a", "10.88.0.2"), ep("c2", "b", "10.88.0.3")], []);
  reg.setConfigServices([{ name: "cfg", ports: [{ name: "", port: 80, protocol: "http" }] }]);
  reg.syncEndpoints("daemon:a", [ep("c2", "b", "10.88.0.3")], []);
  t.deepEqual(
    reg.listServices().map((s) => [s.name, s.virtualIp]),
    [
      ["a", "10.96.0.2"],
      ["b", "10.96.0.3"],
      ["cfg", "10.96.0.4"],
    ],
  );
  const before = reg.index();
  t.deepEqual(
    reg.removeIdleImplied(["a", "b", "cfg", "missing"]),
    ["a"],
    "b has an endpoint, cfg is configured",
  );
  t.is(reg.index(), before + 1);
  t.deepEqual(changes.at(-1), { index: before + 1, services: ["a"] });
  t.deepEqual(reg.removeIdleImplied(["a"]), []);
  t.is(reg.index(), before + 1, "nothing removed, no new index");

  // New names skip the retired VIP while others are free, then take it when nothing else is left.
  reg.syncEndpoints(
    "daemon:a",
    [ep("c2", "b", "10.88.0.3"), ep("c3", "d", "10.88.0.4"), ep("c4", "e", "10.88.0.5")],
    [],
  );
  t.is(reg.getService("d")?.virtualIp, "10.96.0.5");
  t.is(reg.getService("e")?.virtualIp, "10.96.0.6");
  reg.close();
  const again = open(dir, "10.96.0.0/29"); // retirement survives a restart
  t.teardown(() => again.close());
  again.syncEndpoints("daemon:b", [ep("c5", "f", "10.88.0.6")], []);
  t.is(again.getService("f")?.virtualIp, "10.96.0.2", "the last free VIP, retired or not");
  t.throws(
    () => again.syncEndpoints("daemon:b", [ep("c5", "f", "10.88.0.6"), ep("c6", "a", "10.88.0.7")], []),
    {
      message: /no free virtual IP left/,
    },
  );
});

test("a removed service that comes back gets its old VIP if it is free", (t) => {
  const reg = open(tempDir(t));
  t.teardown(() => reg.close());
  reg.syncEndpoints("daemon:a", [ep("c1", "a", "10.88.0.2"), ep("c2", "b", "10.88.0.3")], []);
  reg.syncEndpoints("daemon:a", [ep("c2", "b", "10.88.0.3")], []);
  t.deepEqual(reg.removeIdleImplied(["a"]), ["a"]);
  t.is(reg.getService("a"), undefined);
  t.deepEqual(reg.listEndpoints("a"), []);
  reg.syncEndpoints("daemon:a", [ep("c3", "c", "10.88.0.4"), ep("c1", "a", "10.88.0.2")], []);
  t.is(reg.getService("c")?.virtualIp, "10.96.0.4");
  t.is(reg.getService("a")?.virtualIp, "10.96.0.2");
});

test("an endpoint at an address of the service range is refused, and the sync changes nothing", (t) => {
  const r = open(tempDir(t), "10.96.0.0/16");
  r.syncEndpoints("s1", [ep("a", "web", "10.0.0.5")], []);
  const index = r.index();
  const err = t.throws(() =>
    r.syncEndpoints("s1", [ep("b", "web", "10.0.0.6"), ep("c", "api", "10.96.3.4")], []),
  );
  t.is((err as Error & { code?: string }).code, "INVALID_ARGUMENT");
  t.regex(
    err?.message ?? "",
    /endpoints\[1\] \("c"\)\.address 10\.96\.3\.4 is in the service range 10\.96\.0\.0\/16/,
  );
  t.deepEqual(
    r.listEndpoints("web").map((e) => e.id),
    ["a"],
  );
  t.is(r.getService("api"), undefined);
  t.is(r.index(), index);
  t.is(r.endpointAddressProblem("10.95.255.255"), undefined);
  t.is(r.endpointAddressProblem("10.97.0.0"), undefined);
});
