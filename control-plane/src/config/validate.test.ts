// Every rejected document names the field and what is allowed; valid ones come back normalized.
import test from "ava";
import { ConfigValidationError } from "./errors";
import { validateDocument, validateDocuments } from "./validate";

const route = (spec: Record<string, unknown>) => ({
  apiVersion: "weft.dev/v1",
  kind: "Route",
  metadata: { name: "reviews" },
  spec: { service: "reviews", ...spec },
});
const policyDoc = (spec: Record<string, unknown>) => ({
  apiVersion: "weft.dev/v1",
  kind: "ResiliencePolicy",
  metadata: { name: "p" },
  spec: { service: "reviews", ...spec },
});
const authz = (spec: Record<string, unknown>) => ({
  apiVersion: "weft.dev/v1",
  kind: "AuthorizationPolicy",
  metadata: { name: "a" },
  spec: { service: "reviews", ...spec },
});
const split = (weights: unknown[]) =>
  route({ rules: [{ split: weights.map((w, i) => ({ labels: { version: `v${i + 1}` }, weight: w })) }] });

const cases: Array<[string, unknown, string, RegExp]> = [
  ["apiVersion", { ...route({ rules: [{}] }), apiVersion: "v1" }, "apiVersion", /must be weft\.dev\/v1/],
  [
    "kind",
    { ...route({ rules: [{}] }), kind: "Gateway" },
    "kind",
    /kind must be one of Service, Route, ResiliencePolicy, Telemetry, AuthorizationPolicy/,
  ],
  [
    "unknown top field",
    { ...route({ rules: [{}] }), status: {} },
    "status",
    /not a known field; allowed here: apiVersion, kind, metadata, spec/,
  ],
  [
    "name not a DNS label",
    { ...route({ rules: [{}] }), metadata: { name: "Reviews_1" } },
    "metadata.name",
    /DNS label/,
  ],
  [
    "missing metadata",
    { apiVersion: "weft.dev/v1", kind: "Service", spec: { ports: [{ port: 1 }] } },
    "metadata",
    /metadata is required/,
  ],
  [
    "weight too big",
    split([90, 100001]),
    "spec.rules[0].split[1].weight",
    /spec\.rules\[0\]\.split\[1\]\.weight must be an integer from 0 to 100000/,
  ],
  ["weight not integer", split([1.5, 2]), "spec.rules[0].split[0].weight", /integer/],
  [
    "a mistyped rule field",
    route({ rules: [{ timeout: "2s" }] }),
    "spec.rules[0].timeout",
    /^spec\.rules\[0\]\.timeout is not a known field \(did you mean "timeoutMs"\?\); allowed here: match/,
  ],
  ["all weights zero", split([0, 0]), "spec.rules[0].split", /all 0/],
  [
    "unknown rule field",
    route({ rules: [{ timeout: 5 }] }),
    "spec.rules[0].timeout",
    /allowed here: match, split, timeoutMs, retries, fault, headers, rewrite, redirect, mirror/,
  ],
  [
    "redirect with a split",
    route({
      rules: [{ redirect: { path: "/b" }, split: [{ labels: { version: "v1" }, weight: 1 }] }],
    }),
    "spec.rules[0].redirect",
    /a redirect answers the request itself, so split would never apply; remove it or the redirect/,
  ],
  [
    "redirect with a mirror",
    route({ rules: [{ redirect: { path: "/b" }, mirror: { labels: { version: "v2" } } }] }),
    "spec.rules[0].redirect",
    /so mirror would never apply/,
  ],
  [
    "mirror without labels",
    route({ rules: [{ mirror: { ratio: 0.5 } }] }),
    "spec.rules[0].mirror.labels",
    /must select the subset that gets the copies/,
  ],
  [
    "mirror of nothing",
    route({ rules: [{ mirror: { labels: { version: "v2" }, ratio: 0 } }] }),
    "spec.rules[0].mirror.ratio",
    /copies nothing; remove the mirror/,
  ],
  [
    "mirror ratio over 1",
    route({ rules: [{ mirror: { labels: { version: "v2" }, ratio: 50 } }] }),
    "spec.rules[0].mirror.ratio",
    /a number from 0 to 1/,
  ],
  [
    "redirect to the same URL",
    route({ rules: [{ redirect: { status: 302 } }] }),
    "spec.rules[0].redirect",
    /sends the client back to the same URL/,
  ],
  [
    "redirect status not a redirect",
    route({ rules: [{ redirect: { path: "/b", status: 304 } }] }),
    "spec.rules[0].redirect",
    /status must be one of 301, 302, 303, 307, 308/,
  ],
  [
    "prefix rewrite on a rule without a prefix match",
    route({ rules: [{ match: { pathExact: "/a" }, rewrite: { pathPrefix: "/b" } }] }),
    "spec.rules[0].rewrite",
    /this rule's match has no pathPrefix; add match\.pathPrefix or use path/,
  ],
  [
    "rewrite path with a query",
    route({ rules: [{ rewrite: { path: "/a?b=1" } }] }),
    "spec.rules[0].rewrite",
    /path must be a path starting with '\/' without a query/,
  ],
  [
    "rewrite of both path and prefix",
    route({ rules: [{ match: { pathPrefix: "/a" }, rewrite: { path: "/b", pathPrefix: "/c" } }] }),
    "spec.rules[0].rewrite",
    /path and pathPrefix are both set; use one/,
  ],
  [
    "rewrite authority that is not host:port",
    route({ rules: [{ rewrite: { authority: "http://b" } }] }),
    "spec.rules[0].rewrite",
    /authority must be host or host:port/,
  ],
  [
    "header modifier on a framing field",
    route({ rules: [{ headers: { request: { set: { "Content-Length": "0" } } } }] }),
    "spec.rules[0].headers.request.set.Content-Length",
    /"content-length" frames the message or belongs to one hop; the sidecar writes it/,
  ],
  [
    "header value with a line break",
    route({ rules: [{ headers: { response: { add: { "x-a": "1\r\nx-b: 2" } } } }] }),
    "spec.rules[0].headers.response.add.x-a",
    /a value without control characters/,
  ],
  [
    "header modifier that changes nothing",
    route({ rules: [{ headers: { request: { remove: [] } } }] }),
    "spec.rules[0].headers.request",
    /changes nothing; give set, add or remove/,
  ],
  [
    "fault ratio above 1",
    route({ rules: [{ fault: { abortRatio: 1.5, abortStatus: 503 } }] }),
    "spec.rules[0].fault.abortRatio",
    /from 0 to 1/,
  ],
  [
    "fault abort without a status",
    route({ rules: [{ fault: { abortRatio: 0.1 } }] }),
    "spec.rules[0].fault.abortStatus",
    /give abortStatus too/,
  ],
  [
    "fault that injects nothing",
    route({ rules: [{ fault: { delayMs: 100 } }] }),
    "spec.rules[0].fault",
    /injects nothing/,
  ],
  [
    "circuit breaker limit of 0",
    {
      apiVersion: "weft.dev/v1",
      kind: "ResiliencePolicy",
      metadata: { name: "p" },
      spec: { service: "reviews", circuitBreaker: { maxConnections: 1, maxPendingRequests: 0 } },
    },
    "spec.circuitBreaker.maxPendingRequests",
    /from 1 to/,
  ],
  [
    "unknown load balancer",
    {
      apiVersion: "weft.dev/v1",
      kind: "ResiliencePolicy",
      metadata: { name: "p" },
      spec: { service: "reviews", loadBalancer: "random" },
    },
    "spec.loadBalancer",
    /one of least_request, round_robin/,
  ],
  [
    "consistent hash of two things",
    policyDoc({ consistentHash: { httpHeaderName: "x-user", useSourceIp: true } }),
    "spec.consistentHash",
    /hash one thing, not httpHeaderName and useSourceIp/,
  ],
  [
    "consistent hash of nothing",
    policyDoc({ loadBalancer: "consistent_hash" }),
    "spec.consistentHash",
    /say what to hash/,
  ],
  [
    "consistent hash beside another balancer",
    policyDoc({ loadBalancer: "round_robin", consistentHash: { httpCookieName: "session" } }),
    "spec.loadBalancer",
    /"round_robin" but spec.consistentHash is set/,
  ],
  [
    "consistent hash on a header name with a space",
    policyDoc({ consistentHash: { httpHeaderName: "x user" } }),
    "spec.consistentHash",
    /httpHeaderName must be a lower-case HTTP header name/,
  ],
  [
    "consistent hash on a query parameter with '='",
    policyDoc({ consistentHash: { httpQueryParameterName: "a=b" } }),
    "spec.consistentHash",
    /httpQueryParameterName must be a query parameter name/,
  ],
  [
    "a cookie to generate without a cookie to hash",
    policyDoc({ consistentHash: { httpHeaderName: "x-user", generateCookie: { ttlSeconds: 60 } } }),
    "spec.consistentHash",
    /generateCookie goes with httpCookieName/,
  ],
  [
    "a generated cookie's path without a leading slash",
    policyDoc({ consistentHash: { httpCookieName: "s", generateCookie: { path: "cart" } } }),
    "spec.consistentHash",
    /generateCookie.path must start with "\/"/,
  ],
  [
    "a generated cookie's path with a ';' (it would add an attribute)",
    policyDoc({ consistentHash: { httpCookieName: "s", generateCookie: { path: "/; Domain=evil" } } }),
    "spec.consistentHash",
    /hold no ";"/,
  ],
  [
    "a generated cookie living past 400 days",
    policyDoc({ consistentHash: { httpCookieName: "s", generateCookie: { ttlSeconds: 34_560_001 } } }),
    "spec.consistentHash.generateCookie.ttlSeconds",
    /34560000/,
  ],
  [
    "a generated cookie with an unknown field",
    policyDoc({ consistentHash: { httpCookieName: "s", generateCookie: { ttl: "1h" } } }),
    "spec.consistentHash.generateCookie.ttl",
    /ttl/,
  ],
  [
    "a rate limit that limits nothing",
    policyDoc({ rateLimit: {} }),
    "spec.rateLimit",
    /spec\.rateLimit: it limits nothing/,
  ],
  [
    "a rate limit's burst without a rate",
    policyDoc({ rateLimit: { burst: 10, routes: [{ pathPrefix: "/api", requestsPerSecond: 5 }] } }),
    "spec.rateLimit",
    /burst goes with requestsPerSecond/,
  ],
  [
    "a rate limit's route with both paths",
    policyDoc({ rateLimit: { routes: [{ pathPrefix: "/a", pathExact: "/a", requestsPerSecond: 5 }] } }),
    "spec.rateLimit",
    /routes\[0\]: set exactly one of pathPrefix and pathExact/,
  ],
  [
    "a rate limit's route without a rate",
    policyDoc({ rateLimit: { routes: [{ pathPrefix: "/a" }] } }),
    "spec.rateLimit.routes[0].requestsPerSecond",
    /an integer from 0 to 1000000/,
  ],
  [
    "a fractional rate",
    policyDoc({ rateLimit: { requestsPerSecond: 0.5 } }),
    "spec.rateLimit.requestsPerSecond",
    /an integer from 0 to 1000000/,
  ],
  [
    "a rate limit with an unknown field",
    policyDoc({ rateLimit: { requestsPerMinute: 60 } }),
    "spec.rateLimit.requestsPerMinute",
    /requestsPerMinute/,
  ],
  [
    "timeout over an hour",
    route({ rules: [{ timeoutMs: 3_600_001 }] }),
    "spec.rules[0].timeoutMs",
    /from 0 to 3600000/,
  ],
  [
    "budget ratio",
    route({ rules: [{ retries: { attempts: 2, budgetRatio: 1.5 } }] }),
    "spec.rules[0].retries.budgetRatio",
    /from 0 to 1/,
  ],
  [
    "retry status",
    route({ rules: [{ retries: { attempts: 2, retryOnStatus: [503, 99] } }] }),
    "spec.rules[0].retries.retryOnStatus[1]",
    /100 to 599/,
  ],
  [
    "method",
    route({ rules: [{ match: { method: "get" } }] }),
    "spec.rules[0].match.method",
    /one of GET, HEAD/,
  ],
  [
    "path",
    route({ rules: [{ match: { pathPrefix: "api" } }] }),
    "spec.rules[0].match.pathPrefix",
    /starting with '\/'/,
  ],
  [
    "header name",
    route({ rules: [{ match: { headers: { "X-User": "a" } } }] }),
    "spec.rules[0].match.headers.X-User",
    /lower-case/,
  ],
  ["no rules", route({ rules: [] }), "spec.rules", /at least one rule/],
  [
    "route without service",
    { ...route({ rules: [{}] }), spec: { rules: [{}] } },
    "spec.service",
    /spec\.service is required/,
  ],
  [
    "duplicate port",
    {
      apiVersion: "weft.dev/v1",
      kind: "Service",
      metadata: { name: "a" },
      spec: { ports: [{ port: 80 }, { port: 80, protocol: "http" }] },
    },
    "spec.ports[1].port",
    /listed twice/,
  ],
  [
    "protocol",
    {
      apiVersion: "weft.dev/v1",
      kind: "Service",
      metadata: { name: "a" },
      spec: { ports: [{ port: 80, protocol: "udp" }] },
    },
    "spec.ports[0].protocol",
    /one of auto, http, http2, grpc, tcp, server-first/,
  ],
  [
    "port range",
    {
      apiVersion: "weft.dev/v1",
      kind: "Service",
      metadata: { name: "a" },
      spec: { ports: [{ port: 70000 }] },
    },
    "spec.ports[0].port",
    /from 1 to 65535/,
  ],
  [
    "ejection ratio",
    {
      apiVersion: "weft.dev/v1",
      kind: "ResiliencePolicy",
      metadata: { name: "p" },
      spec: { service: "a", outlierDetection: { maxEjectionRatio: 2 } },
    },
    "spec.outlierDetection.maxEjectionRatio",
    /from 0 to 1/,
  ],
  [
    "ejection time",
    {
      apiVersion: "weft.dev/v1",
      kind: "ResiliencePolicy",
      metadata: { name: "p" },
      spec: { service: "a", outlierDetection: { baseEjectionTimeMs: 7_200_000 } },
    },
    "spec.outlierDetection.baseEjectionTimeMs",
    /3600000/,
  ],
  [
    "default telemetry with service",
    { apiVersion: "weft.dev/v1", kind: "Telemetry", metadata: { name: "default" }, spec: { service: "a" } },
    "spec.service",
    /must be empty on the Telemetry named "default"/,
  ],
  [
    "log level",
    {
      apiVersion: "weft.dev/v1",
      kind: "Telemetry",
      metadata: { name: "default" },
      spec: { logging: { level: "trace" } },
    },
    "spec.logging.level",
    /one of debug, info, warn, error/,
  ],
  [
    "sampling ratio",
    {
      apiVersion: "weft.dev/v1",
      kind: "Telemetry",
      metadata: { name: "default" },
      spec: { tracing: { samplingRatio: -0.1 } },
    },
    "spec.tracing.samplingRatio",
    /from 0 to 1/,
  ],
  [
    "label value not a string",
    { ...route({ rules: [{}] }), metadata: { name: "r", labels: { v: 2 } } },
    "metadata.labels.v",
    /must be a string/,
  ],
  [
    "authz rule without action",
    authz({ rules: [{ from: ["web"] }] }),
    "spec.rules[0].action",
    /action is required: ALLOW or DENY/,
  ],
  [
    "authz bad action",
    authz({ rules: [{ action: "PERMIT" }] }),
    "spec.rules[0].action",
    /one of ALLOW, DENY/,
  ],
  [
    "authz bad caller",
    authz({ rules: [{ action: "ALLOW", from: ["web app"] }] }),
    "spec",
    /"web app" is neither a service name nor "\*"/,
  ],
  [
    "authz both paths",
    authz({ rules: [{ action: "ALLOW", pathPrefix: "/a", pathExact: "/b" }] }),
    "spec",
    /give one/,
  ],
  [
    "authz unknown rule field",
    authz({ rules: [{ action: "ALLOW", principals: ["x"] }] }),
    "spec.rules[0].principals",
    /not a known field/,
  ],
  [
    "authz rule description too long",
    authz({ rules: [{ action: "ALLOW", description: "x".repeat(1025) }] }),
    "spec",
    /rules\[0\]: description is longer than 1024 characters/,
  ],
  [
    "authz rule meta not strings",
    authz({ rules: [{ action: "ALLOW", meta: { owner: 7 } }] }),
    "spec.rules[0].meta.owner",
    /string/,
  ],
  [
    "authz policy meta too many pairs",
    authz({ rules: [], meta: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) }),
    "spec",
    /spec: meta holds at most 64 pairs, got 65/,
  ],
  [
    "authz bad default",
    authz({ rules: [], defaultAction: "maybe" }),
    "spec.defaultAction",
    /one of ALLOW, DENY/,
  ],
  [
    "authz without service",
    { ...authz({}), spec: { rules: [] } },
    "spec.service",
    /spec.service is required/,
  ],
];

for (const [title, doc, field, message] of cases) {
  test(`rejects: ${title}`, (t) => {
    const err = t.throws(() => validateDocument(doc), { instanceOf: ConfigValidationError });
    t.is(err.field, field);
    t.regex(err.message, message);
    t.truthy(err.allowed, "says what is allowed");
  });
}

test("a valid route comes back with defaults applied and nothing extra", (t) => {
  const doc = validateDocument(
    route({
      rules: [
        {
          match: { pathPrefix: "/api", headers: { "x-user": "jason" } },
          split: [
            { labels: { version: "v1" }, weight: 90 },
            { labels: { version: "v2" }, weight: 10 },
          ],
          timeoutMs: 2000,
          retries: { attempts: 2, retryOnStatus: [503] },
          fault: { delayRatio: 0.1, delayMs: 500, abortRatio: 0.01, abortStatus: 503 },
          headers: {
            request: { set: { "X-Tenant": "blue" }, remove: ["x-debug"] },
            response: { add: { "x-route": "r" } },
          },
          rewrite: { pathPrefix: "/", authority: "reviews.internal" },
        },
      ],
    }),
  );
  t.deepEqual(doc, {
    kind: "Route",
    metadata: { name: "reviews", labels: {} },
    spec: {
      service: "reviews",
      rules: [
        {
          match: { pathPrefix: "/api", headers: { "x-user": "jason" } },
          split: [
            { labels: { version: "v1" }, weight: 90 },
            { labels: { version: "v2" }, weight: 10 },
          ],
          timeoutMs: 2000,
          retries: { attempts: 2, retryOnStatus: [503] },
          fault: { delayRatio: 0.1, delayMs: 500, abortRatio: 0.01, abortStatus: 503 },
          // Names in lower case, as HTTP/2 sends them.
          headers: {
            request: { set: { "x-tenant": "blue" }, remove: ["x-debug"] },
            response: { add: { "x-route": "r" } },
          },
          rewrite: { pathPrefix: "/", authority: "reviews.internal" },
        },
      ],
    },
  });
});

test("a mirror copies every request unless it says what share", (t) => {
  const rules = (doc: unknown) => (validateDocument(doc) as { spec: { rules: unknown[] } }).spec.rules;
  t.deepEqual(rules(route({ rules: [{ mirror: { labels: { version: "v2" } } }] })), [
    { mirror: { labels: { version: "v2" }, ratio: 1 } },
  ]);
  t.deepEqual(rules(route({ rules: [{ mirror: { labels: { version: "v2" }, ratio: 0.1 } }] })), [
    { mirror: { labels: { version: "v2" }, ratio: 0.1 } },
  ]);
});

test("a consistent hash is the balancer, named or not; a header name is lower-cased", (t) => {
  const spec = (doc: unknown) => (validateDocument(doc) as { spec: Record<string, unknown> }).spec;
  t.deepEqual(spec(policyDoc({ consistentHash: { httpHeaderName: "X-User" } })), {
    service: "reviews",
    loadBalancer: "consistent_hash",
    consistentHash: { httpHeaderName: "x-user" },
  });
  t.deepEqual(spec(policyDoc({ loadBalancer: "consistent_hash", consistentHash: { useSourceIp: true } })), {
    service: "reviews",
    loadBalancer: "consistent_hash",
    consistentHash: { useSourceIp: true },
  });
  t.deepEqual(
    spec(
      policyDoc({
        consistentHash: { httpCookieName: "s", generateCookie: { ttlSeconds: 3600, path: "/cart" } },
      }),
    ),
    {
      service: "reviews",
      loadBalancer: "consistent_hash",
      consistentHash: { httpCookieName: "s", generateCookie: { ttlSeconds: 3600, path: "/cart" } },
    },
  );
  t.deepEqual(
    spec(policyDoc({ consistentHash: { httpCookieName: "s", generateCookie: {} } })).consistentHash,
    { httpCookieName: "s", generateCookie: {} },
    "an empty generateCookie stays: it asks for a session cookie on /",
  );
});

test("a rate limit alone is a policy; a route's method is upper-cased", (t) => {
  const spec = (doc: unknown) => (validateDocument(doc) as { spec: Record<string, unknown> }).spec;
  t.deepEqual(
    spec(
      policyDoc({
        rateLimit: {
          requestsPerSecond: 100,
          burst: 200,
          routes: [
            { pathExact: "/healthz", requestsPerSecond: 0 },
            { pathPrefix: "/api/orders", method: "post", requestsPerSecond: 5 },
          ],
        },
      }),
    ),
    {
      service: "reviews",
      rateLimit: {
        requestsPerSecond: 100,
        burst: 200,
        routes: [
          { pathExact: "/healthz", requestsPerSecond: 0 },
          { pathPrefix: "/api/orders", method: "POST", requestsPerSecond: 5 },
        ],
      },
    },
  );
});

test("a service port without protocol is auto; output-only metadata is accepted", (t) => {
  const doc = validateDocument({
    apiVersion: "weft.dev/v1",
    kind: "Service",
    metadata: { name: "db", version: 3, createdAt: "x", updatedAt: "y" },
    spec: { ports: [{ port: 5432 }] },
  });
  t.deepEqual(doc, {
    kind: "Service",
    metadata: { name: "db", labels: {}, version: 3 },
    spec: { ports: [{ port: 5432, protocol: "auto" }] },
  });
});

test("a list names the index of the bad document and rejects duplicates", (t) => {
  const good = route({ rules: [{}] });
  const err = t.throws(() => validateDocuments([good, split([0, 0])]), { instanceOf: ConfigValidationError });
  t.is(err.document, 1);
  const dup = t.throws(() => validateDocuments([good, good]), { instanceOf: ConfigValidationError });
  t.is(dup.document, 1);
  t.regex(dup.message, /appears twice/);
});

test("an authorization policy's notes (its meta, a rule's description and meta) are kept as written", (t) => {
  const doc = validateDocument(
    authz({
      rules: [{ action: "allow", from: ["web"], description: "web reads", meta: { ticket: "SEC-9" } }],
      meta: { owner: "team-a" },
    }),
  );
  t.deepEqual(doc.spec, {
    service: "reviews",
    rules: [{ action: "ALLOW", from: ["web"], description: "web reads", meta: { ticket: "SEC-9" } }],
    meta: { owner: "team-a" },
  });
  // An empty meta is none.
  t.false("meta" in (validateDocument(authz({ rules: [], meta: {} })).spec as object));
});
