import test from "ava";
import { SidecarError } from "../errors";
import { ConfigStore } from "./store";
import { parseEndpoint, parseService } from "./validate";
import { parseServicePolicy, parseServiceRoutes } from "./validate-config";

const web = { name: "web", virtual_ip: "10.96.0.10", ports: [{ name: "http", port: 80, protocol: "http" }] };

test("a good service becomes a ServiceConfig with auto (detect) as the default protocol", (t) => {
  const s = parseService({ ...web, ports: [{ port: 80, protocol: "HTTP" }, { port: 9000 }] }, "s");
  t.deepEqual(s.ports, [
    { name: "", port: 80, protocol: "http" },
    { name: "", port: 9000, protocol: "auto" },
  ]); // A control plane from before mutual TLS sends no mode: the mesh default.
  t.is(s.mtlsMode, "PERMISSIVE");
  t.is(parseService({ ...web, mtls_mode: "STRICT" }, "s").mtlsMode, "STRICT");
});

test("bad fields are refused with a message naming the field", (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ ...web, virtual_ip: "10.96.0" }, /s\.virtual_ip "10\.96\.0" is not an IPv4 address/],
    [{ ...web, name: "-web" }, /s\.name "-web" is not a service name \(letters, digits/],
    [{ ...web, ports: [{ port: 0 }] }, /s\.ports\[0\]\.port must be an integer from 1 to 65535/],
    [
      { ...web, ports: [{ port: 80, protocol: "sctp" }] },
      /s\.ports\[0\]\.protocol must be one of auto, http/,
    ],
    [{ ...web, ports: [{ port: 80 }, { port: 80 }] }, /port 80 twice/],
    [{ ...web, mtls_mode: "OFF" }, /s\.mtls_mode "OFF" is not one of PERMISSIVE, STRICT, DISABLE/],
    ["web", /s must be an object/],
  ];
  for (const [value, message] of cases) {
    const err = t.throws(() => parseService(value, "s"), { instanceOf: SidecarError });
    t.is(err?.code, "INVALID_CONFIG");
    t.regex(err?.message ?? "", message);
  }
  t.throws(() => parseEndpoint({ address: "host.example" }, "e"), { message: /e\.address "host\.example"/ });
  // What the registry takes from Consul clients (capitals, '_', '.') is taken here too.
  for (const name of ["Web_1", "PaymentService", "api.v1"])
    t.is(parseService({ ...web, name }, "s").name, name);
});

test("a conflicting update changes nothing: the last good config keeps serving", (t) => {
  const store = new ConfigStore();
  const good = parseService(web, "s");
  store.applyServices({ resources: new Map([["web", good]]), removed: [], incremental: false }, "v1");
  const clash = parseService({ ...web, name: "api" }, "s");
  t.throws(
    () =>
      store.applyServices(
        {
          resources: new Map([
            ["web", good],
            ["api", clash],
          ]),
          removed: [],
          incremental: false,
        },
        "v2",
      ),
    { message: /"web" and "api" both claim 10\.96\.0\.10:80/ },
  );
  t.is(store.versions.services, "v1");
  t.is(store.serviceAt("10.96.0.10", 80)?.service.name, "web");
});

test("incremental updates add and remove by name; ready once services are accepted", (t) => {
  const store = new ConfigStore();
  store.applyServices(
    { resources: new Map([["web", parseService(web, "s")]]), removed: [], incremental: false },
    "1",
  );
  t.true(store.ready, "endpoints come per service, on demand: services are enough to be ready");
  const api = parseService({ name: "api", virtual_ip: "10.96.0.11", ports: [{ port: 9000 }] }, "s");
  store.applyServices({ resources: new Map([["api", api]]), removed: ["web"], incremental: true }, "2");
  t.deepEqual(store.serviceNames(), ["api"]);
  t.false(store.hasEndpoints("api"));
  store.applyEndpoints({ resources: new Map([["api", []]]), removed: [], incremental: false }, "1");
  t.true(store.hasEndpoints("api"), "an empty list is an answer: the service has no endpoints");
});

test("a policy's consistent hash is parsed; one that hashes nothing, or two things, is refused", (t) => {
  const policy = (spec: Record<string, unknown>) =>
    parseServicePolicy({ service: "web", name: "p", spec }, "p", "web");
  t.deepEqual(
    policy({ consistent_hash: { http_header_name: "x-user", use_source_ip: false } }).consistentHash,
    {
      httpHeaderName: "x-user",
    },
  );
  t.is(policy({ consistent_hash: { http_cookie_name: "session" } }).loadBalancer, "consistent_hash");
  t.deepEqual(
    policy({
      consistent_hash: { http_cookie_name: "session", generate_cookie: { path: "", ttl_seconds: 0 } },
    }).consistentHash,
    { httpCookieName: "session", generateCookie: { path: "/", ttlSeconds: 0 } },
    "an empty message asks for a session cookie on /",
  );
  t.is(
    policy({ consistent_hash: { http_cookie_name: "session", generate_cookie: null } }).consistentHash
      ?.generateCookie,
    undefined,
    "absent (null as decoded): no cookie is made",
  );
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      { load_balancer: "consistent_hash" },
      /p\.spec\.load_balancer is "consistent_hash" but spec\.consistent_hash is missing/,
    ],
    [{ consistent_hash: {} }, /p\.spec\.consistent_hash: say what to hash/],
    [
      { consistent_hash: { http_header_name: "x-user", http_cookie_name: "s" } },
      /hash one thing, not httpHeaderName and httpCookieName/,
    ],
    [
      { load_balancer: "round_robin", consistent_hash: { use_source_ip: true } },
      /"round_robin" but spec\.consistent_hash is set/,
    ],
    [
      { consistent_hash: { http_header_name: "X User" } },
      /httpHeaderName must be a lower-case HTTP header name/,
    ],
    [
      { consistent_hash: { use_source_ip: true, generate_cookie: { ttl_seconds: 60 } } },
      /generateCookie goes with httpCookieName/,
    ],
    [
      { consistent_hash: { http_cookie_name: "s", generate_cookie: { path: "/a\r\nx: y" } } },
      /generateCookie.path must start with "\/" and hold no ";" or control characters/,
    ],
    [
      { consistent_hash: { http_cookie_name: "s", generate_cookie: { ttl_seconds: 4_000_000_000 } } },
      /generateCookie.ttlSeconds must be a whole number of seconds/,
    ],
  ];
  for (const [spec, message] of cases) {
    const err = t.throws(() => policy(spec), { instanceOf: SidecarError });
    t.regex(err?.message ?? "", message);
  }
});

test("a policy's rate limit is parsed as proto3 sends it; one that limits nothing or badly is NACKed", (t) => {
  const policy = (spec: Record<string, unknown>) =>
    parseServicePolicy({ service: "web", name: "p", spec }, "p", "web");
  t.deepEqual(
    policy({
      rate_limit: {
        requests_per_second: 50,
        burst: 0,
        routes: [
          { path_prefix: "", path_exact: "/healthz", method: "", requests_per_second: 0, burst: 0 },
          { path_prefix: "/api", path_exact: "", method: "POST", requests_per_second: 2, burst: 4 },
        ],
      },
    }).rateLimit,
    {
      requestsPerSecond: 50,
      burst: undefined,
      routes: [
        {
          pathPrefix: undefined,
          pathExact: "/healthz",
          method: undefined,
          requestsPerSecond: 0,
          burst: undefined,
        },
        { pathPrefix: "/api", pathExact: undefined, method: "POST", requestsPerSecond: 2, burst: 4 },
      ],
    },
  );
  t.is(policy({ load_balancer: "round_robin", rate_limit: null }).rateLimit, undefined);
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ rate_limit: { requests_per_second: 0, routes: [] } }, /p\.spec\.rate_limit: it limits nothing/],
    [{ rate_limit: { requests_per_second: -1 } }, /requests_per_second must be a whole number/],
    [
      { rate_limit: { routes: [{ path_prefix: "nope", requests_per_second: 1 }] } },
      /routes\[0\]: the path must start with "\/"/,
    ],
    [{ rate_limit: { requests_per_second: 5, routes: "all" } }, /routes must be a list/],
  ];
  for (const [spec, message] of cases) {
    const err = t.throws(() => policy(spec), { instanceOf: SidecarError });
    t.regex(err?.message ?? "", message);
  }
});

test("a rule's mirror is parsed; one without labels, or beside a redirect, is refused", (t) => {
  const rules = (rule: Record<string, unknown>) =>
    parseServiceRoutes(
      { service: "web", routes: [{ name: "r", spec: { service: "web", rules: [rule] } }] },
      "p",
      "web",
    ).routes[0]?.rules[0];
  t.deepEqual(rules({ mirror: { labels: { version: "v2" }, ratio: 0.5 } })?.mirror, {
    labels: { version: "v2" },
    ratio: 0.5,
  });
  t.is(rules({})?.mirror, undefined);
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ mirror: { labels: {}, ratio: 1 } }, /mirror\.labels must select a subset/],
    [{ mirror: { labels: { version: "v2" }, ratio: 2 } }, /mirror\.ratio must be a ratio from 0 to 1/],
    [
      { redirect: { path: "/b" }, mirror: { labels: { version: "v2" }, ratio: 1 } },
      /both a redirect and a mirror/,
    ],
  ];
  for (const [rule, message] of cases) {
    const err = t.throws(() => rules(rule), { instanceOf: SidecarError });
    t.regex(err?.message ?? "", message);
  }
});
