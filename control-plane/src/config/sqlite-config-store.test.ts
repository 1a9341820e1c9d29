// The store as the push sees it: forService lookups and change notices that come after commit.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { SqliteRegistry } from "../registry/sqlite-registry";
import { openRegistryDatabase } from "../store/database";
import { ConfigValidationError } from "./errors";
import { SqliteConfigStore } from "./sqlite-config-store";
import type { ConfigChange } from "./types";

function open(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), "weft-cfg-"));
  const db = openRegistryDatabase(dir);
  const registry = new SqliteRegistry(db);
  const store = new SqliteConfigStore(db, registry, { now: () => new Date("2026-01-01T00:00:00Z") });
  t.teardown(() => {
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, registry };
}

const doc = (kind: string, name: string, spec: unknown) => ({
  apiVersion: "weft.dev/v1",
  kind,
  metadata: { name },
  spec,
});
const svc = (name: string) => doc("Service", name, { ports: [{ port: 80, protocol: "http" }] });
const route = (name: string, service: string) => doc("Route", name, { service, rules: [{ timeoutMs: 100 }] });

test("forService finds a service's routes, its policy, and the default telemetry plus its own", (t) => {
  const { store } = open(t);
  store.apply([
    svc("a"),
    svc("b"),
    route("a-main", "a"),
    route("a-canary", "a"),
    route("b-main", "b"),
    doc("ResiliencePolicy", "a", { service: "a", circuitBreaker: { maxConnections: 10 } }),
    doc("Telemetry", "default", { tracing: { samplingRatio: 0.1 } }),
    doc("Telemetry", "a-debug", { service: "a", logging: { level: "debug" } }),
  ]);
  t.deepEqual(
    store.forService("Route", "a").map((o) => o.metadata.name),
    ["a-canary", "a-main"],
  );
  t.deepEqual(store.forService("ResiliencePolicy", "b"), []);
  t.deepEqual(
    store.forService("Telemetry", "a").map((o) => o.metadata.name),
    ["a-debug", "default"],
  );
  t.deepEqual(
    store.forService("Telemetry", "b").map((o) => o.metadata.name),
    ["default"],
  );
  t.deepEqual(
    store.forService("Service", "b").map((o) => o.metadata.name),
    ["b"],
  );
  t.is(store.get("Route", "b-main")?.metadata.createdAt, "2026-01-01T00:00:00.000Z");
  t.throws(() => ((store.get("Route", "b-main")!.spec as { service: string }).service = "x"), {
    instanceOf: TypeError,
  });
});

test("listeners hear each change after commit; a moved route is gone from its old service", (t) => {
  const { store } = open(t);
  store.apply([svc("a"), svc("b"), route("r", "a")]);
  const seen: Array<ConfigChange & { visible: boolean }> = [];
  store.onChange((c) => seen.push({ ...c, visible: store.get(c.kind, c.name) !== undefined }));
  store.apply([route("r", "b")]);
  store.delete("Route", "r");
  t.deepEqual(seen, [
    { kind: "Route", name: "r", service: "a", deleted: true, visible: true },
    { kind: "Route", name: "r", service: "b", deleted: false, visible: true },
    { kind: "Route", name: "r", service: "b", deleted: true, visible: false },
  ]);
});

test("a service has one ResiliencePolicy and one own Telemetry", (t) => {
  const { store } = open(t);
  store.apply([
    svc("a"),
    doc("ResiliencePolicy", "p1", { service: "a", circuitBreaker: { maxConnections: 1 } }),
  ]);
  const err = t.throws(
    () =>
      store.apply([doc("ResiliencePolicy", "p2", { service: "a", circuitBreaker: { maxConnections: 2 } })]),
    { instanceOf: ConfigValidationError },
  );
  t.is(err.field, "spec.service");
  t.regex(err.message, /already has the ResiliencePolicy "p1"/);
  // Moving p1 away in the same apply frees the service for p2.
  store.apply([
    svc("b"),
    doc("ResiliencePolicy", "p1", { service: "b", circuitBreaker: { maxConnections: 1 } }),
    doc("ResiliencePolicy", "p2", { service: "a", circuitBreaker: { maxConnections: 2 } }),
  ]);
  t.deepEqual(
    store.forService("ResiliencePolicy", "a").map((o) => o.metadata.name),
    ["p2"],
  );
});

test("a route may name a service the registry implies, without a config Service", (t) => {
  const { store, registry } = open(t);
  registry.syncEndpoints(
    "daemon:n1",
    [
      {
        id: "c1",
        service: "web",
        address: "10.88.0.2",
        ports: [],
        labels: {},
        workload: "",
        node: "n1",
        healthy: true,
      },
    ],
    [],
  );
  t.deepEqual(
    store.apply([route("web", "web")]).map((r) => r.action),
    ["created"],
  );
  t.is(registry.getService("web")?.origin, "implied");
});

test("apply warns about a Route subset that matches no endpoint of its service, and stores it", (t) => {
  const { store, registry } = open(t);
  const endpoint = (id: string, version: string) => ({
    id,
    service: "web",
    address: `10.88.0.${id.length + 1}`,
    ports: [],
    labels: { version },
    workload: "",
    node: "n1",
    healthy: true,
  });
  registry.syncEndpoints("daemon:n1", [endpoint("c1", "v1")], []);
  const canary = doc("Route", "canary", {
    service: "web",
    rules: [
      {
        split: [
          { labels: { version: "v1" }, weight: 80 },
          { labels: { version: "v2" }, weight: 20 },
        ],
      },
    ],
  });
  const [result] = store.apply([canary]);
  t.is(result?.action, "created");
  t.deepEqual(result?.warnings, [
    'spec.rules[0].split[1]: {version=v2} matches no endpoint of service "web" now; its 20% goes to the other subsets until a workload with those labels starts',
  ]);
  t.truthy(store.get("Route", "canary"));
  // Once v2 runs, the same Route applies without a word.
  registry.syncEndpoints("daemon:n1", [endpoint("c1", "v1"), endpoint("c22", "v2")], []);
  t.deepEqual(store.apply([canary]), [{ kind: "Route", name: "canary", action: "unchanged", version: 1 }]);
});
