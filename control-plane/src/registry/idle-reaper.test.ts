// Implied services that nothing runs any more, against a real control plane: registered over gRPC,
// listed over HTTP, pushed to a config stream. A service whose last endpoint left is removed after
// --idle-service-ttl (and the sidecars are told), one that gets an endpoint back in time stays, a
// configured one stays, and a removed name that comes back gets its old virtual IP.
import test, { type ExecutionContext } from "ava";
import { TYPE_SERVICE } from "../../../proto/index";
import { openConfigStream, syncEndpoints } from "../grpc-testing";
import { startTestControlPlane, type TestControlPlane } from "../test-support";

const controlPlane = (t: ExecutionContext, idleServiceTtlMs: number) =>
  startTestControlPlane(t, undefined, { grpcSocket: "", idleServiceTtlMs });

/** POST /api/v1/config/apply, as `weft apply` does; the status and the answer's text. */
async function apply(cp: TestControlPlane, docs: unknown[]): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://${cp.httpAddress}/api/v1/config/apply`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(docs),
  });
  return { status: res.status, text: await res.text() };
}

const endpoint = (id: string, service: string, address: string) => ({
  id,
  service,
  address,
  node: "n1",
  healthy: true,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("an implied service with no endpoint left is removed after the TTL, and sidecars are told", async (t) => {
  const cp = await controlPlane(t, 1500);
  const service = { apiVersion: "weft.dev/v1", kind: "Service", metadata: { name: "configured" } };
  const put = await apply(cp, [{ ...service, spec: { ports: [{ port: 80 }] } }]);
  t.is(put.status, 200, put.text);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [
      endpoint("c1", "gone", "10.88.0.2"),
      endpoint("c2", "back", "10.88.0.3"),
      endpoint("c9", "routed", "10.88.0.9"),
    ],
  });
  // A Route names "routed": it stays while scaled to zero, so the Route can be applied again.
  const route = {
    apiVersion: "weft.dev/v1",
    kind: "Route",
    metadata: { name: "routed" },
    spec: { service: "routed", rules: [{ timeoutMs: 500 }] },
  };
  const applied = await apply(cp, [route]);
  t.is(applied.status, 200, applied.text);
  const goneVip = cp.registry.getService("gone")!.virtualIp;
  const stream = openConfigStream(cp.grpcAddress, { id: "s1", workload: "w", service: "client" });
  t.teardown(() => stream.close());
  stream.subscribe(TYPE_SERVICE);
  const first = await stream.next(TYPE_SERVICE);
  t.deepEqual(first.resources.map((r) => r.name).sort(), ["back", "configured", "gone", "routed"]);
  stream.ack(first);

  // Both containers stop; "back" is replaced well within the TTL (a restart), "gone" is not.
  await syncEndpoints(cp.grpcAddress, { source: "daemon:n1", endpoints: [] });
  await sleep(100);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [endpoint("c3", "back", "10.88.0.4")],
  });
  await sleep(2500);

  const listed = (await (await fetch(`http://${cp.httpAddress}/api/v1/services`)).json()) as Array<{
    name: string;
  }>;
  t.deepEqual(
    listed.map((s) => s.name),
    ["back", "configured", "routed"],
  );
  const again = await apply(cp, [{ ...route, spec: { ...route.spec, rules: [{ timeoutMs: 800 }] } }]);
  t.is(again.status, 200, again.text);
  // Every update of the stream since the first, merged: "gone" was removed, nothing else was.
  const removed: string[] = [];
  for (;;) {
    const update = await stream.next(TYPE_SERVICE, 300).catch(() => undefined);
    if (!update) break;
    removed.push(...(update.removed_resources ?? []));
    stream.ack(update);
  }
  t.deepEqual(removed, ["gone"]);
  t.true(
    cp.logs.some((l) => /removed service\(s\) gone: no endpoint for 1500 ms/.test(l)),
    cp.logs.join("\n"),
  );

  // Another service arrives first, then the removed name comes back: each gets its own VIP again.
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [endpoint("c3", "back", "10.88.0.4"), endpoint("c4", "newcomer", "10.88.0.5")],
  });
  t.not(
    cp.registry.getService("newcomer")!.virtualIp,
    goneVip,
    "a retired VIP is not handed to another name",
  );
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [
      endpoint("c3", "back", "10.88.0.4"),
      endpoint("c4", "newcomer", "10.88.0.5"),
      endpoint("c5", "gone", "10.88.0.6"),
    ],
  });
  t.is(cp.registry.getService("gone")!.virtualIp, goneVip);
});

test("--idle-service-ttl 0 keeps implied services without endpoints", async (t) => {
  const cp = await controlPlane(t, 0);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [endpoint("c1", "kept", "10.88.0.2")],
  });
  await syncEndpoints(cp.grpcAddress, { source: "daemon:n1", endpoints: [] });
  await sleep(300);
  t.truthy(cp.registry.getService("kept"));
});
