// The config stream and registration over real gRPC, against a real control plane.
import { statSync } from "node:fs";
import test from "ava";
import { TYPE_ENDPOINTS, TYPE_POLICY, TYPE_SERVICE } from "../../../proto/index";
import type { SqliteConfigStore } from "../config/index";
import { openConfigStream, syncEndpoints } from "../grpc-testing";
import { startTestControlPlane } from "../test-support";

const reviewsV1 = {
  id: "c1",
  service: "reviews",
  address: "10.88.0.2",
  ports: [{ name: "http", port: 9080, protocol: "http" }],
  labels: { version: "v1" },
  workload: "reviews-1",
  node: "n1",
  healthy: true,
};

test("a sidecar gets services and endpoints, ACKs, and later changes arrive on the open stream", async (t) => {
  const cp = await startTestControlPlane(t);
  const synced = await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [reviewsV1],
    services: [{ name: "reviews", ports: [{ name: "http", port: 9080, protocol: "http" }] }],
  });
  t.is(synced.services[0]?.virtual_ip, "10.96.0.2");

  const stream = openConfigStream(cp.grpcAddress, { id: "productpage.abc", workload: "productpage" });
  t.teardown(() => stream.close());
  stream.subscribe(TYPE_SERVICE);
  stream.subscribe(TYPE_ENDPOINTS);
  const services = await stream.next(TYPE_SERVICE);
  t.deepEqual(
    services.resources.map((r) => [
      r.name,
      r.service?.virtual_ip,
      r.service?.ports[0]?.port,
      r.service?.origin,
    ]),
    [["reviews", "10.96.0.2", 9080, "implied"]],
  );
  t.truthy(services.nonce);
  t.truthy(services.version_info);
  stream.ack(services);
  const endpoints = await stream.next(TYPE_ENDPOINTS);
  t.deepEqual(
    endpoints.resources[0]?.endpoints?.endpoints.map((e) => [
      e.id,
      e.address,
      e.healthy,
      e.source,
      e.labels.version,
    ]),
    [["c1", "10.88.0.2", true, "daemon:n1", "v1"]],
  );
  stream.ack(endpoints);

  const started = Date.now();
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [reviewsV1, { ...reviewsV1, id: "c2", address: "10.88.0.3", labels: { version: "v2" } }],
    services: [{ name: "reviews", ports: [{ name: "http", port: 9080, protocol: "http" }] }],
  });
  const changed = await stream.next(TYPE_ENDPOINTS, 10_000);
  t.true(Date.now() - started < 5000, "the change arrives promptly, without a reconnect or resync");
  t.deepEqual(
    changed.resources[0]?.endpoints?.endpoints.map((e) => e.address),
    ["10.88.0.2", "10.88.0.3"],
  );
  t.not(changed.nonce, endpoints.nonce);
  stream.ack(changed);
  t.false(await stream.receivesWithin(TYPE_SERVICE, 300), "services did not change, so none are pushed");

  await new Promise((r) => setTimeout(r, 100));
  const res = await fetch(`http://${cp.httpAddress}/api/v1/proxies`);
  const proxies = (await res.json()) as Array<{
    nodeId: string;
    types: Record<string, { ackedVersion: string; lastNonce: string }>;
  }>;
  t.is(proxies.length, 1);
  t.is(proxies[0]!.nodeId, "productpage.abc");
  t.is(proxies[0]!.types[TYPE_ENDPOINTS]!.ackedVersion, changed.version_info);
  t.is(proxies[0]!.types[TYPE_ENDPOINTS]!.lastNonce, changed.nonce);
  t.is(proxies[0]!.types[TYPE_SERVICE]!.ackedVersion, services.version_info);
});

test("a NACK is recorded with its reason and logged; the next good push clears it", async (t) => {
  const cp = await startTestControlPlane(t);
  await syncEndpoints(cp.grpcAddress, { source: "daemon:n1", endpoints: [reviewsV1] });
  const stream = openConfigStream(cp.grpcAddress, { id: "sidecar-nack" });
  t.teardown(() => stream.close());
  stream.subscribe(TYPE_ENDPOINTS);
  const first = await stream.next(TYPE_ENDPOINTS);
  stream.ack(first);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [{ ...reviewsV1, address: "10.88.0.9" }],
  });
  const bad = await stream.next(TYPE_ENDPOINTS);
  stream.nack(bad, first.version_info, "endpoint 10.88.0.9 is not routable");
  await new Promise((r) => setTimeout(r, 100));

  const proxies = (await (await fetch(`http://${cp.httpAddress}/api/v1/proxies`)).json()) as Array<{
    types: Record<
      string,
      { ackedVersion: string; nacks: number; lastError?: { message: string; nonce: string } }
    >;
  }>;
  const state = proxies[0]!.types[TYPE_ENDPOINTS]!;
  t.is(state.ackedVersion, first.version_info, "the sidecar keeps its last good version");
  t.is(state.nacks, 1);
  t.deepEqual(state.lastError && { message: state.lastError.message, nonce: state.lastError.nonce }, {
    message: "endpoint 10.88.0.9 is not routable",
    nonce: bad.nonce,
  });
  t.true(cp.logs.some((l) => l.includes("NACK") && l.includes("sidecar-nack") && l.includes("not routable")));

  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [{ ...reviewsV1, address: "10.88.0.4" }],
  });
  const good = await stream.next(TYPE_ENDPOINTS);
  stream.ack(good);
  await new Promise((r) => setTimeout(r, 100));
  const after = (await (await fetch(`http://${cp.httpAddress}/api/v1/proxies`)).json()) as typeof proxies;
  t.is(after[0]!.types[TYPE_ENDPOINTS]!.lastError, undefined);
  t.is(after[0]!.types[TYPE_ENDPOINTS]!.ackedVersion, good.version_info);
});

test("a sidecar subscribing to named resources gets only those", async (t) => {
  const cp = await startTestControlPlane(t);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [reviewsV1, { ...reviewsV1, id: "c5", service: "ratings", address: "10.88.0.5" }],
  });
  const stream = openConfigStream(cp.grpcAddress, { id: "named" });
  t.teardown(() => stream.close());
  stream.subscribe(TYPE_ENDPOINTS, ["ratings"]);
  const r = await stream.next(TYPE_ENDPOINTS);
  t.deepEqual(
    r.resources.map((x) => x.name),
    ["ratings"],
  );
  stream.ack(r);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [
      { ...reviewsV1, address: "10.88.0.8" },
      { ...reviewsV1, id: "c5", service: "ratings", address: "10.88.0.5" },
    ],
  });
  t.false(
    await stream.receivesWithin(TYPE_ENDPOINTS, 400),
    "a change to reviews is not pushed to a ratings-only subscriber",
  );
});

test("registration and streams work over the unix socket, which every user may open", async (t) => {
  const cp = await startTestControlPlane(t);
  t.is(statSync(cp.socketPath).mode & 0o777, 0o666);
  await syncEndpoints(`unix://${cp.socketPath}`, { source: "daemon:n1", endpoints: [reviewsV1] });
  const stream = openConfigStream(cp.socketPath, { id: "via-socket" });
  t.teardown(() => stream.close());
  stream.subscribe(TYPE_SERVICE);
  const r = await stream.next(TYPE_SERVICE);
  t.is(r.resources[0]?.name, "reviews");
});

test("a bad SyncEndpoints gets INVALID_ARGUMENT naming the field, and nothing is stored", async (t) => {
  const cp = await startTestControlPlane(t);
  const cases: Array<[object, RegExp]> = [
    [{ source: "", endpoints: [reviewsV1] }, /source is required/],
    [{ source: "d", endpoints: [{ ...reviewsV1, address: "not-an-ip" }] }, /endpoints\[0\]\.address/],
    [
      { source: "d", endpoints: [reviewsV1, { ...reviewsV1, service: "" }] },
      /endpoints\[1\]\.service is required/,
    ],
    [
      { source: "d", endpoints: [{ ...reviewsV1, ports: [{ port: 0 }] }] },
      /endpoints\[0\]\.ports\[0\]\.port/,
    ],
    [{ source: "d", endpoints: [{ ...reviewsV1, ports: [{ port: 80, protocol: "udp" }] }] }, /protocol/],
    [{ source: "d", endpoints: [reviewsV1, reviewsV1] }, /endpoints\[1\]\.id "c1" is used twice/],
    [{ source: "d", endpoints: [{ ...reviewsV1, service: "bad name!" }] }, /not a valid service name/],
    [{ source: "d", endpoints: [{ ...reviewsV1, source: "other" }] }, /endpoints\[0\]\.source/],
  ];
  for (const [request, reason] of cases) {
    const error = await t.throwsAsync(syncEndpoints(cp.grpcAddress, request));
    t.is((error as Error & { code?: number }).code, 3, `INVALID_ARGUMENT for ${reason}`);
    t.regex(error!.message, reason);
  }
  t.deepEqual(cp.registry.listServices(), []);
  t.deepEqual(cp.registry.listAllEndpoints(), []);
});

test("a taken port fails with a message naming the port and the flag", async (t) => {
  const cp = await startTestControlPlane(t);
  const { startControlPlane } = await import("../server");
  const port = Number(cp.httpAddress.split(":")[1]);
  const error = await t.throwsAsync(
    startControlPlane({ dataDir: `${cp.dataDir}/other`, grpcPort: 0, httpPort: port, grpcSocket: "" }),
  );
  t.regex(error!.message, new RegExp(`HTTP port ${port} .*already in use.*--http-port`));
  const grpcPort = Number(cp.grpcAddress.split(":")[1]);
  const grpcError = await t.throwsAsync(
    startControlPlane({ dataDir: `${cp.dataDir}/other`, grpcPort, httpPort: 0, grpcSocket: "" }),
  );
  t.regex(grpcError!.message, new RegExp(`gRPC port ${grpcPort} .*already in use.*--grpc-port`));
  const socketError = await t.throwsAsync(
    startControlPlane({
      dataDir: `${cp.dataDir}/other`,
      grpcPort: 0,
      httpPort: 0,
      grpcSocket: cp.socketPath,
    }),
  );
  t.regex(socketError!.message, /another process is listening.*--grpc-socket/);
});

test("a burst of registry changes is merged into one push carrying the final state", async (t) => {
  const cp = await startTestControlPlane(t);
  const stream = openConfigStream(cp.grpcAddress, { id: "burst" });
  t.teardown(() => stream.close());
  stream.subscribe(TYPE_ENDPOINTS);
  stream.ack(await stream.next(TYPE_ENDPOINTS));
  for (let i = 2; i <= 6; i++) {
    cp.registry.syncEndpoints("daemon:n1", [{ ...reviewsV1, address: `10.88.0.${i}`, ports: [] }], []);
  }
  const pushed = await stream.next(TYPE_ENDPOINTS);
  t.deepEqual(
    pushed.resources[0]?.endpoints?.endpoints.map((e) => e.address),
    ["10.88.0.6"],
  );
  t.is(pushed.version_info, String(cp.registry.index()));
  t.false(await stream.receivesWithin(TYPE_ENDPOINTS, 300), "no second push for the same burst");
});

test("a service's mutual TLS mode is its Service's spec.mtls, else the mesh-wide default, pushed as it changes", async (t) => {
  const cp = await startTestControlPlane(t, undefined, { mtlsMode: "STRICT" });
  await syncEndpoints(cp.grpcAddress, { source: "daemon:n1", endpoints: [reviewsV1], services: [] });
  const stream = openConfigStream(cp.grpcAddress, { id: "productpage.abc", workload: "productpage" });
  t.teardown(() => stream.close());
  stream.subscribe(TYPE_SERVICE);
  const modeOf = async () => {
    const r = await stream.next(TYPE_SERVICE);
    stream.ack(r);
    return r.resources.find((x) => x.name === "reviews")?.service?.mtls_mode;
  };
  t.is(await modeOf(), "STRICT", "an implied service takes the control plane's --mtls-mode");
  const config = cp.config as SqliteConfigStore;
  const service = (spec: Record<string, unknown>) => ({
    apiVersion: "weft.dev/v1",
    kind: "Service",
    metadata: { name: "reviews" },
    spec: { ports: [{ name: "http", port: 9080, protocol: "http" }], ...spec },
  });
  config.apply([service({ mtls: "DISABLE" })]);
  t.is(await modeOf(), "DISABLE");
  t.is(cp.registry.getService("reviews")?.mtls, "DISABLE", "kept in the registry database");
  // Only the mode changed: still a change to push.
  config.apply([service({ mtls: "PERMISSIVE" })]);
  t.is(await modeOf(), "PERMISSIVE");
  config.apply([service({})]);
  t.is(await modeOf(), "STRICT");
  // A mode that is not one is refused, naming the field, and the stored one stays.
  t.throws(() => config.apply([service({ mtls: "strictly" })]), {
    message: /spec\.mtls.*one of PERMISSIVE, STRICT, DISABLE/,
  });
  t.is(cp.registry.getService("reviews")?.mtls, undefined);
});

test("a service's ResiliencePolicy and AuthorizationPolicy reach its sidecars as one ServicePolicy", async (t) => {
  const cp = await startTestControlPlane(t);
  await syncEndpoints(cp.grpcAddress, { source: "daemon:n1", endpoints: [reviewsV1], services: [] });
  const config = cp.config as SqliteConfigStore;
  const stream = openConfigStream(cp.grpcAddress, {
    id: "reviews-1.abc",
    workload: "reviews-1",
    service: "reviews",
  });
  t.teardown(() => stream.close());
  stream.subscribe(TYPE_POLICY, ["reviews"]);
  const next = async () => {
    const r = await stream.next(TYPE_POLICY);
    stream.ack(r);
    return r.resources.find((x) => x.name === "reviews")?.policy;
  };
  const authz = {
    apiVersion: "weft.dev/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "reviews-callers" },
    spec: { service: "reviews", rules: [{ action: "allow", from: ["productpage"], methods: ["get"] }] },
  };
  config.apply([authz]);
  let policy = await next();
  t.is(policy?.authorization?.name, "reviews-callers");
  t.deepEqual(
    policy?.authorization?.spec?.rules.map((r) => [r.action, r.from, r.methods]),
    [["ALLOW", ["productpage"], ["GET"]]],
  );
  config.apply([
    {
      apiVersion: "weft.dev/v1",
      kind: "ResiliencePolicy",
      metadata: { name: "reviews-cb" },
      spec: { service: "reviews", circuitBreaker: { maxConnections: 10 } },
    },
  ]);
  policy = await next();
  t.is(policy?.name, "reviews-cb");
  t.is(policy?.spec?.circuit_breaker?.max_connections, 10);
  t.is(policy?.authorization?.name, "reviews-callers", "the other kind is kept");
  // A second AuthorizationPolicy for the service is refused; the first stays.
  t.throws(() => config.apply([{ ...authz, metadata: { name: "other" } }]), {
    message: /service "reviews" already has the AuthorizationPolicy "reviews-callers"/,
  });
  config.delete("ResiliencePolicy", "reviews-cb");
  policy = await next();
  t.is(policy?.name, "");
  t.is(policy?.authorization?.name, "reviews-callers");
});
