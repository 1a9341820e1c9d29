// Source leases against a real control plane over gRPC: a daemon that stops syncing has its endpoints
// marked unhealthy (not deleted) after --source-ttl; its next sync makes them healthy again. Other
// sources are untouched, and a flood of syncs from one source is refused with RESOURCE_EXHAUSTED.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import test from "ava";
import { syncEndpoints } from "../grpc-testing";
import { startControlPlane } from "../server";

async function controlPlane(t: { teardown(fn: () => unknown): void }, sourceTtlMs: number) {
  const dir = mkdtempSync(join(tmpdir(), "weft-lease-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cp = await startControlPlane({
    dataDir: join(dir, "data"),
    grpcPort: 0,
    httpPort: 0,
    grpcSocket: "",
    sourceTtlMs,
    log: () => {},
  });
  t.teardown(() => cp.close());
  return cp;
}

const daemon = (node: string, ip: string) => ({
  source: `daemon:${node}`,
  endpoints: [{ id: `${node}-c1`, service: "web", address: ip, node, healthy: true }],
});

test("a silent daemon's endpoints turn unhealthy after the TTL and healthy again when it syncs", async (t) => {
  const cp = await controlPlane(t, 400);
  await syncEndpoints(cp.grpcAddress, daemon("n1", "10.88.0.2"));
  await syncEndpoints(cp.grpcAddress, daemon("n2", "10.88.0.3"));
  const health = () => Object.fromEntries(cp.registry.listEndpoints("web").map((e) => [e.id, e.healthy]));
  // n2 keeps its lease alive with heartbeats; n1 goes silent.
  const heartbeat = setInterval(
    () => syncEndpoints(cp.grpcAddress, daemon("n2", "10.88.0.3")).catch(() => {}),
    100,
  );
  t.teardown(() => clearInterval(heartbeat));
  await new Promise((r) => setTimeout(r, 900));
  t.deepEqual(health(), { "n1-c1": false, "n2-c1": true }, "n1 is kept but unhealthy");
  const passing = (await (
    await fetch(`http://${cp.httpAddress}/v1/health/service/web?passing`)
  ).json()) as unknown[];
  t.is(passing.length, 1);
  await syncEndpoints(cp.grpcAddress, daemon("n1", "10.88.0.2"));
  t.deepEqual(health(), { "n1-c1": true, "n2-c1": true });
});

test("a flood of syncs from one source gets RESOURCE_EXHAUSTED and the control plane keeps answering", async (t) => {
  const cp = await controlPlane(t, 30_000);
  const results = await Promise.allSettled(
    Array.from({ length: 200 }, (_, i) =>
      syncEndpoints(cp.grpcAddress, daemon("flood", `10.88.1.${(i % 250) + 1}`)),
    ),
  );
  const refused = results.filter(
    (r) => r.status === "rejected" && (r.reason as { code?: number }).code === status.RESOURCE_EXHAUSTED,
  );
  t.true(refused.length > 0, "some syncs were throttled");
  t.true(
    results.some((r) => r.status === "fulfilled"),
    "the first ones went through",
  );
  t.regex((refused[0] as PromiseRejectedResult).reason.details, /syncs too often; retry after/);
  // Another source is not affected by the flooder's bucket.
  await t.notThrowsAsync(syncEndpoints(cp.grpcAddress, daemon("calm", "10.88.2.2")));
  t.is((await fetch(`http://${cp.httpAddress}/api/v1/services`)).status, 200);
});

test('a gRPC source may not call itself "agent" or "catalog"', async (t) => {
  const cp = await controlPlane(t, 30_000);
  for (const source of ["agent", "catalog"]) {
    const err = await t.throwsAsync(syncEndpoints(cp.grpcAddress, { source, endpoints: [] }));
    t.is((err as unknown as { code: number }).code, status.INVALID_ARGUMENT);
    t.regex(
      (err as unknown as { details: string }).details,
      new RegExp(`source "${source}" belongs to Consul's`),
    );
  }
});

test("an endpoint at a service VIP is INVALID_ARGUMENT over gRPC, and the source's endpoints stay", async (t) => {
  const cp = await controlPlane(t, 30_000);
  await syncEndpoints(cp.grpcAddress, daemon("n1", "10.88.1.5"));
  const err = await t.throwsAsync(syncEndpoints(cp.grpcAddress, daemon("n1", "10.96.0.2")));
  t.is((err as unknown as { code: number }).code, status.INVALID_ARGUMENT);
  t.regex((err as unknown as { details: string }).details, /is in the service range 10\.96\.0\.0\/16/);
  t.deepEqual(
    cp.registry.listEndpoints("web").map((e) => e.address),
    ["10.88.1.5"],
  );
});
