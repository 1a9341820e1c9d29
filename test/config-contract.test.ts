// What the control plane accepts, every sidecar accepts and can route with, searched for: mesh config
// documents of every kind a sidecar gets (Route, ResiliencePolicy, AuthorizationPolicy, Telemetry),
// with values changed (other numbers, other strings, items dropped), go through the control plane's
// validation; each one it accepts goes on as it would be pushed (wire.ts, then protobuf bytes through
// the schema codec) to the sidecar's parsers, and then through routing, authorization, rate limits
// and header edits for a handful of requests. A document the control plane took but the sidecar
// NACKs would leave every sidecar on its old config while `weft apply` said yes; one the sidecar
// takes but throws on while routing would fail requests. WEFT_FUZZ_SEED and WEFT_FUZZ_CASES explore.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { ConfigValidationError } from "../control-plane/src/config/errors";
import type { ConfigObject } from "../control-plane/src/config/types";
import { validateDocument } from "../control-plane/src/config/validate";
import { EndpointsGenerator } from "../control-plane/src/discovery/gen-endpoints";
import { ServiceGenerator } from "../control-plane/src/discovery/gen-services";
import { policyResource, routesResource, telemetryResource } from "../control-plane/src/discovery/wire";
import { parseSyncRequest } from "../control-plane/src/registration/validate";
import { SqliteRegistry } from "../control-plane/src/registry/sqlite-registry";
import { openRegistryDatabase } from "../control-plane/src/store/database";
import { decodeMessage, encodeMessage, SCHEMA } from "../proto/index";
import { applyHeaderEdits } from "../sidecar/src/config/header-edits";
import { ConfigStore } from "../sidecar/src/config/store";
import type { EndpointConfig, PolicyConfig, ServiceRoutesConfig } from "../sidecar/src/config/types";
import { parseEndpoint, parseService } from "../sidecar/src/config/validate";
import {
  parseServicePolicy,
  parseServiceRoutes,
  parseTelemetry,
} from "../sidecar/src/config/validate-config";
import type { RequestInfo } from "../sidecar/src/http/route";
import { checkAuthorization } from "../sidecar/src/listeners/authorization";
import { InboundRateLimits } from "../sidecar/src/listeners/rate-limits";
import { Metrics } from "../sidecar/src/telemetry/metrics";
import { HTTP80, ok, run, seeded, status } from "../sidecar/src/upstream/fixtures";
import { ServiceUpstreams } from "../sidecar/src/upstream/service-upstreams";
import { fuzzRun, mutateValues, replay } from "./support/generated";

const DOC = { apiVersion: "weft.dev/v1" };
const ROUTE = {
  ...DOC,
  kind: "Route",
  metadata: { name: "reviews-r" },
  spec: {
    service: "reviews",
    rules: [
      {
        match: { pathPrefix: "/api", method: "GET", headers: { "x-user": "jason" } },
        split: [
          { labels: { version: "v1" }, weight: 90 },
          { labels: { version: "v2" }, weight: 10 },
        ],
        timeoutMs: 1500,
        retries: {
          attempts: 3,
          perTryTimeoutMs: 500,
          retryOnStatus: [503, 502],
          retryOnConnectFailure: true,
          budgetRatio: 0.2,
        },
        fault: { delayRatio: 0.5, delayMs: 20, abortRatio: 0.1, abortStatus: 500 },
        headers: {
          request: { set: { "x-env": "canary" }, add: { "x-tag": "a" }, remove: ["x-debug"] },
          response: { set: { "x-served-by": "reviews" }, remove: ["server"] },
        },
        mirror: { labels: { version: "v2" }, ratio: 0.5 },
      },
      { match: { pathExact: "/old" }, redirect: { path: "/new", status: 301 } },
      { match: { pathPrefix: "/v1/" }, rewrite: { pathPrefix: "/v2/", authority: "reviews-next" } },
      { timeoutMs: 3000 },
    ],
  },
};
const RESILIENCE = {
  ...DOC,
  kind: "ResiliencePolicy",
  metadata: { name: "reviews-p" },
  spec: {
    service: "reviews",
    loadBalancer: "consistent_hash",
    consistentHash: { httpCookieName: "session", generateCookie: { path: "/", ttlSeconds: 60 } },
    circuitBreaker: { maxConnections: 10, maxPendingRequests: 5, maxRequestsPerConnection: 100 },
    outlierDetection: {
      consecutive5xx: 3,
      consecutiveConnectFailures: 2,
      intervalMs: 1000,
      baseEjectionTimeMs: 5000,
      maxEjectionRatio: 0.5,
    },
    rateLimit: {
      requestsPerSecond: 100,
      burst: 20,
      routes: [
        { pathPrefix: "/api", method: "POST", requestsPerSecond: 5, burst: 1 },
        { pathExact: "/healthz", requestsPerSecond: 0 },
      ],
    },
  },
};
const AUTHORIZATION = {
  ...DOC,
  kind: "AuthorizationPolicy",
  metadata: { name: "reviews-a" },
  spec: {
    service: "reviews",
    defaultAction: "DENY",
    rules: [
      { action: "DENY", from: ["batch"], methods: ["POST"], pathPrefix: "/admin" },
      { action: "ALLOW", from: ["front", "*"], methods: ["GET", "HEAD"] },
      { action: "ALLOW", pathExact: "/healthz" },
    ],
  },
};
const TELEMETRY = {
  ...DOC,
  kind: "Telemetry",
  metadata: { name: "reviews-t" },
  spec: {
    service: "reviews",
    tracing: {
      enabled: true,
      samplingRatio: 0.25,
      otlpEndpoint: "http://collector:4318",
      resourceAttributes: { env: "test" },
    },
    logging: {
      level: "debug",
      accessLog: true,
      fields: ["status", "upstream"],
      samplingRatio: 0.5,
      sinks: ["control-plane"],
    },
  },
};

const NUMBERS = [0, 1, -1, 0.5, 1.5, 2, 99, 100, 599, 600, 65535, 65536, 100_000, 2 ** 31, 2 ** 53, 1e21];
const STRINGS = [
  "",
  "/",
  "*",
  "a",
  "GET",
  "get",
  "v2",
  "/a b",
  "/%zz",
  "x-user",
  "X-USER",
  "::1",
  "ä",
  "a".repeat(300),
  "\t",
  "-",
  "ALLOW",
  "DENY",
];

/** Keeps each value's type (a number stays a number): the control plane then accepts enough of them. */
function mutate(r: () => number, doc: unknown): unknown {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  return mutateValues(r, doc, {
    drop: 0.15,
    // The service names the resource a document is pushed in; another one goes to other sidecars.
    keep: ["apiVersion", "kind", "service"],
    replace: (v) => {
      if (typeof v === "number") return pick(NUMBERS);
      if (typeof v === "string") return pick(STRINGS);
      if (typeof v === "boolean") return !v;
      if (Array.isArray(v)) return [...v, structuredClone(v[0] ?? pick(STRINGS))];
      return v;
    },
  });
}

/** As the sidecar receives it: the control plane's wire form, through protobuf bytes and back. */
function pushed(resource: { wire: unknown }): Record<string, unknown> {
  const response = { type_url: "t", version_info: "1", nonce: "n", resources: [resource.wire] };
  const bytes = encodeMessage(SCHEMA, "DiscoveryResponse", response as Record<string, unknown>);
  const decoded = decodeMessage(SCHEMA, "DiscoveryResponse", bytes) as {
    resources: Array<Record<string, unknown>>;
  };
  return decoded.resources[0] as Record<string, unknown>;
}

const ENDPOINTS: EndpointConfig[] = [1, 2, 3].map((n) => ({
  id: `reviews-${n}`,
  service: "reviews",
  address: `10.0.0.${n}`,
  ports: [],
  labels: { version: n === 3 ? "v2" : "v1" },
  workload: `w${n}`,
  node: "n1",
  healthy: true,
}));

const REQUESTS: RequestInfo[] = [
  [
    "GET",
    "/api/x",
    [
      ["x-user", "jason"],
      ["x-debug", "1"],
      ["cookie", "session=abc"],
    ],
  ],
  ["POST", "/api", []],
  ["GET", "/old?q=1", []],
  ["GET", "/v1/books", [["host", "reviews"]]],
  ["HEAD", "/healthz", []],
  ["DELETE", "/admin/x", []],
].map(([method, path, headers]) => ({
  method: method as string,
  path: path as string,
  authority: "reviews:9080",
  headers: headers as Array<[string, string]>,
  protocol: "http1" as const,
  clientAddress: "10.0.0.9",
}));

/** Routes every request as a sidecar would, answered 200 and then 503. Throws what the sidecar would. */
function route(routes: ServiceRoutesConfig | undefined, policy: PolicyConfig | undefined): void {
  const up = new ServiceUpstreams({ random: seeded(7) });
  const limits = new InboundRateLimits(new Metrics());
  for (const request of REQUESTS) {
    checkAuthorization(new Metrics(), policy, "reviews", "spiffe://weft.local/ns/default/svc/front", request);
    checkAuthorization(new Metrics(), policy, "reviews", undefined, request);
    limits.check(policy, "reviews", request);
    for (const answer of [() => ok(), () => status(503)]) {
      const plan = up.plan({
        service: "reviews",
        servicePort: HTTP80,
        endpoints: ENDPOINTS,
        routes,
        policy,
        request,
      });
      run(plan, answer);
      if ("next" in plan && plan.headers?.request) applyHeaderEdits(request.headers, plan.headers.request);
    }
  }
}

interface Outcome {
  accepted: number;
  refused: number;
}

function search(t: ExecutionContext, seedDoc: { kind: string }, defaultCases: number): Outcome {
  const { seed, cases } = fuzzRun(defaultCases);
  const outcome: Outcome = { accepted: 0, refused: 0 };
  for (let i = -1; i < cases; i++) {
    // Case -1 is the document as written: it must pass whole.
    const r = seeded(seed + i);
    const doc = i < 0 ? seedDoc : mutate(r, seedDoc);
    let valid: ConfigObject;
    try {
      valid = { ...(validateDocument(doc) as ConfigObject), metadata: { name: "x", version: 3 } as never };
    } catch (err) {
      if (!(err instanceof ConfigValidationError)) t.fail(`the control plane threw ${(err as Error).stack}`);
      t.true(i >= 0, `the unmutated ${seedDoc.kind} is refused: ${(err as Error).message}`);
      outcome.refused++;
      continue;
    }
    outcome.accepted++;
    const where = `${seedDoc.kind}, ${replay(seed + i)}: ${JSON.stringify(doc)}`;
    try {
      let routes: ServiceRoutesConfig | undefined;
      let policy: PolicyConfig | undefined;
      if (valid.kind === "Route") {
        const res = pushed(routesResource("reviews", [valid], "1"));
        routes = parseServiceRoutes(res.routes, "routes", "reviews");
      } else if (valid.kind === "Telemetry") {
        parseTelemetry(pushed(telemetryResource("reviews", valid, "1")).telemetry, "telemetry", "reviews");
      } else {
        const isAuthz = valid.kind === "AuthorizationPolicy";
        const res = pushed(
          policyResource("reviews", isAuthz ? undefined : valid, isAuthz ? valid : undefined, "1"),
        );
        policy = parseServicePolicy(res.policy, "policy", "reviews");
      }
      route(routes, policy);
    } catch (err) {
      t.fail(`accepted by the control plane, then the sidecar threw: ${(err as Error).stack}\n${where}`);
    }
  }
  t.log(
    `${seedDoc.kind}: ${cases} mutations, ${outcome.accepted} accepted and routed by the sidecar, ${outcome.refused} refused by the control plane`,
  );
  t.true(outcome.accepted > cases / 10 && outcome.refused > 0, "the mutations reach both outcomes");
  return outcome;
}

for (const doc of [ROUTE, RESILIENCE, AUTHORIZATION, TELEMETRY]) {
  test(`a ${doc.kind} the control plane accepts, the sidecar accepts and routes with`, (t) => {
    search(t, doc, 1500);
  });
}

// What a source registers (SyncEndpoints, the Consul agent, all through parseSyncRequest's rules and
// the registry's), every sidecar must accept as pushed: a Services or ServiceEndpoints response it
// refuses leaves it on its old services or without that service's endpoints. Consul clients
// register names like "PaymentService" and addresses weft's sidecars do not route, so once one
// of those made every sidecar NACK.
const SYNC = {
  source: "daemon:n1",
  endpoints: [
    {
      id: "c1",
      service: "reviews",
      address: "10.88.0.2",
      ports: [{ name: "http", port: 9080, protocol: "http" }],
      labels: { version: "v1" },
      workload: "reviews-1",
      node: "n1",
      healthy: true,
    },
  ],
  services: [{ name: "reviews", ports: [{ name: "http", port: 9080, protocol: "http" }], labels: {} }],
};
const REGISTRY_VALUES = [
  "PaymentService",
  "payment_api",
  "api.v1",
  "WEB",
  "A",
  "a-b",
  "-a",
  "a..b",
  "x".repeat(63),
  "x".repeat(64),
  "10.88.0.3",
  "127.0.0.1",
  "::1",
  "fd00::5",
  "0.0.0.0",
  "10.96.0.9",
  "grpc",
  "tcp",
  "",
  "ä",
];

test("what the registry accepts from a source, every sidecar accepts as pushed", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-contract-"));
  const registry = new SqliteRegistry(openRegistryDatabase(dir));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { seed, cases } = fuzzRun(1500);
  let accepted = 0;
  for (let i = -1; i < cases; i++) {
    const r = seeded(seed + i);
    const input =
      i < 0
        ? SYNC
        : mutateValues(r, SYNC, {
            keep: ["source"],
            replace: (v, rr) =>
              typeof v === "number"
                ? [0, 1, 80, 65535, 65536][Math.floor(rr() * 5)]
                : typeof v === "string"
                  ? REGISTRY_VALUES[Math.floor(rr() * REGISTRY_VALUES.length)]
                  : v,
          });
    const parsed = parseSyncRequest(input);
    if (!parsed.ok) continue;
    try {
      registry.syncEndpoints(parsed.value.source, parsed.value.endpoints, parsed.value.declarations);
    } catch (err) {
      if ((err as { code?: string }).code === "INVALID_ARGUMENT") continue;
      throw err;
    }
    accepted++;
    const where = `${replay(seed + i)}: ${JSON.stringify(input)}`;
    const store = new ConfigStore();
    try {
      const services = [...new ServiceGenerator(registry).all().values()].map((res) =>
        parseService(pushed(res).service, "service"),
      );
      store.applyServices(
        { resources: new Map(services.map((s) => [s.name, s])), removed: [], incremental: false },
        "1",
      );
      for (const res of new EndpointsGenerator(registry).all().values()) {
        const wire = pushed(res).endpoints as { endpoints?: unknown[] } | undefined;
        for (const [k, e] of (wire?.endpoints ?? []).entries()) parseEndpoint(e, `endpoints[${k}]`);
      }
    } catch (err) {
      t.fail(`registered, then the sidecar refused it: ${(err as Error).message}\n${where}`);
      return;
    }
  }
  t.log(`${cases} mutated syncs: ${accepted} registered, each taken by the sidecar as pushed`);
  t.true(accepted > cases / 10, "enough of them are registered");
});
