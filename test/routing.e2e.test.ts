// The routing layer (issue #7) end to end: a real control plane and daemon, runc containers with
// injected sidecars and iptables capture, mesh config changed live with `weft apply`. The client is
// the `front` workload; `back` has replicas labelled by version that answer their version, and a
// CGI (/cgi-bin/slow) that answers after 2 s. Each test removes the routes and policies it applied.
import test from "ava";
import { importExampleImage, type Mesh, startMesh } from "./support/mesh";
import { hex } from "./support/processes";
import {
  addressOf,
  applyAndWait,
  bodiesFrom,
  deleteAndWait,
  metricDelta,
  metricsOf,
  rawRequests,
  type ServiceConfigDoc,
  sidecarDump,
  waitForSidecar,
} from "./support/traffic";

let mesh: Mesh;
const id = hex(2);
const FRONT = `front-${id}`;
const BACK = (version: string) => `back-${version}-${id}`;
const BACK_URL = "http://back:8080/";
const SLOW = { host: "back", port: 8080, path: "/cgi-bin/slow" };
const ROUND_ROBIN: ServiceConfigDoc = {
  kind: "ResiliencePolicy",
  name: "back-rr",
  spec: { service: "back", loadBalancer: "round_robin" },
};

/** A back replica's app: answers its version on /, "slow VERSION" on /cgi-bin/slow after 2 s, and on
 * /cgi-bin/headers the x-tenant, x-secret, Host and query string it was sent, with an x-internal
 * response header. */
function versionApp(version: string): string[] {
  // CRLF after the CGI's header: busybox httpd passes it through, and a bare LF there makes the
  // sidecars' HTTP/1.1 parser answer 502 (strict parsing, as a smuggling protection).
  const cgi = `#!/bin/sh\\nsleep 2\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"\\necho slow ${version}\\n`;
  const headers = `#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\nX-Internal: 1\\\\r\\\\n\\\\r\\\\n"\\necho "tenant=$HTTP_X_TENANT secret=$HTTP_X_SECRET host=$HTTP_HOST query=$QUERY_STRING"\\n`;
  const script = [
    "mkdir -p /tmp/w/cgi-bin",
    `echo ${version} > /tmp/w/index.html`,
    `printf '${cgi}' > /tmp/w/cgi-bin/slow`,
    `printf '${headers}' > /tmp/w/cgi-bin/headers`,
    "chmod +x /tmp/w/cgi-bin/slow /tmp/w/cgi-bin/headers",
    "exec httpd -f -p 8080 -h /tmp/w",
  ].join(" && ");
  return ["sh", "-c", script];
}

async function runBack(version: string, app: string[]): Promise<void> {
  await mesh.weftOk(
    ["run", "-d", "--name", BACK(version), "--service", "back", "--port", "8080/http"]
      .concat(["--label", `version=${version}`, "--memory", "64m"])
      .concat(["hello-mesh", ...app]),
  );
}

/** Waits until front's sidecar has exactly these back replicas (by address) as healthy endpoints. */
async function frontSeesBacks(versions: string[]): Promise<void> {
  const want = (await Promise.all(versions.map((v) => addressOf(mesh, BACK(v))))).sort();
  await waitForSidecar(mesh, FRONT, `back endpoints ${want.join(", ")}`, (d) => {
    const have = (d.endpoints.back ?? [])
      .filter((e) => e.healthy)
      .map((e) => e.address)
      .sort();
    return JSON.stringify(have) === JSON.stringify(want);
  });
}

/** The routing series of service back, for the test log. */
function series(metrics: string): string {
  return metrics
    .split("\n")
    .filter((l) =>
      /^weft_(upstream_retries|outlier_ejections|upstream_requests)_total\{service="back"/.test(l),
    )
    .join("\n");
}

function count(lines: string[], value: string): number {
  return lines.filter((l) => l === value).length;
}

test.before(async () => {
  mesh = await startMesh();
  await importExampleImage(mesh, "hello-mesh");
  await runBack("v1", versionApp("v1"));
  await runBack("v2", versionApp("v2"));
  await mesh.weftOk(
    ["run", "-d", "--name", FRONT, "--service", "front", "--port", "8080/http"].concat([
      "hello-mesh",
      ...["httpd", "-f", "-p", "8080", "-h", "/www/front"],
    ]),
  );
  // The first call subscribes front's sidecar to back (endpoints, routes, policy).
  await bodiesFrom(mesh, FRONT, BACK_URL, 1);
  await frontSeesBacks(["v1", "v2"]);
});

test.after.always(async () => {
  await mesh?.close();
});

test.serial("a canary split sends its share to v2 and moves live with weft apply", async (t) => {
  const route = (v1: number, v2: number): ServiceConfigDoc => ({
    kind: "Route",
    name: "back-canary",
    spec: {
      service: "back",
      rules: [
        {
          split: [
            { labels: { version: "v1" }, weight: v1 },
            { labels: { version: "v2" }, weight: v2 },
          ],
        },
      ],
    },
  });
  try {
    const first = await applyAndWait(mesh, FRONT, route(90, 10));
    const before = await metricsOf(mesh, FRONT);
    const bodies = await bodiesFrom(mesh, FRONT, BACK_URL, 200);
    const [v1, v2] = [count(bodies, "v1"), count(bodies, "v2")];
    t.log(`90/10 split: v1 ${v1}, v2 ${v2}, other ${bodies.length - v1 - v2} of ${bodies.length}`);
    // Which route the sidecar put the requests under, and where their attempts went: a skewed draw
    // then tells a route not applied from an endpoint missing or failing.
    const during = await metricsOf(mesh, FRONT);
    const byRoute = (r: string) =>
      metricDelta(before, during, "weft_requests_total", {
        direction: "outbound",
        service: "back",
        route: r,
      });
    t.log(`routes: back-canary ${byRoute("back-canary")}, default ${byRoute("default")}`);
    t.log(series(during));
    t.log(JSON.stringify((await sidecarDump(mesh, FRONT)).endpoints.back));
    t.is(bodies.length, 200);
    t.is(v1 + v2, 200, `every request answered by v1 or v2: ${JSON.stringify(bodies)}`);
    // A fair 10% draw of 200 lands in [6, 50] with overwhelming probability (mean 20, sd 4.2).
    t.true(v2 >= 6 && v2 <= 50, `v2 got ${v2} of 200`);

    // Move it all to v2 without restarting anything: the next version reaches the sidecar and applies.
    t.true((await applyAndWait(mesh, FRONT, route(0, 100))) > first);
    const after = await bodiesFrom(mesh, FRONT, BACK_URL, 50);
    t.deepEqual(after, new Array(50).fill("v2"));
  } finally {
    await deleteAndWait(mesh, FRONT, route(0, 100));
  }
});

test.serial("a consistent hash keeps each user on one replica and spreads users over both", async (t) => {
  const sticky: ServiceConfigDoc = {
    kind: "ResiliencePolicy",
    name: "back-sticky",
    spec: { service: "back", consistentHash: { httpQueryParameterName: "user" } },
  };
  await applyAndWait(mesh, FRONT, sticky);
  try {
    // 16 users, 4 requests each, from front's app: "user-N BODY" per request.
    const script = `for u in $(seq 16); do for i in 1 2 3 4; do b=$(timeout 10 wget -q -O - "${BACK_URL}?user=u$u" 2>/dev/null | head -n 1); echo "u$u \${b:-ERR}"; done; done`;
    const lines = (await mesh.weftOk(["exec", FRONT, "sh", "-c", script], 300_000))
      .split("\n")
      .filter(Boolean);
    t.is(lines.length, 64);
    const homes = new Map<string, Set<string>>();
    for (const line of lines) {
      const [user = "", body = ""] = line.split(" ");
      homes.set(user, (homes.get(user) ?? new Set()).add(body));
    }
    for (const [user, bodies] of homes) {
      t.is(bodies.size, 1, `${user} was answered by ${[...bodies].join(" and ")}`);
      t.true(bodies.has("v1") || bodies.has("v2"), `${user}: ${[...bodies].join(" ")}`);
    }
    const versions = new Set([...homes.values()].flatMap((b) => [...b]));
    t.deepEqual([...versions].sort(), ["v1", "v2"], "16 users are not all on one replica");
  } finally {
    await deleteAndWait(mesh, FRONT, sticky);
  }
});

test.serial(
  "generateCookie: a client without the cookie is given one, and with it keeps its replica",
  async (t) => {
    const sticky: ServiceConfigDoc = {
      kind: "ResiliencePolicy",
      name: "back-cookie",
      spec: {
        service: "back",
        consistentHash: { httpCookieName: "session", generateCookie: { ttlSeconds: 600 } },
      },
    };
    await applyAndWait(mesh, FRONT, sticky);
    try {
      const target = { host: "back", port: 8080, path: "/" };
      const homes = new Set<string>();
      // 10 clients from front's app: a first visit without a cookie, then 3 with the one it was given.
      for (let client = 0; client < 10; client++) {
        const [first] = await rawRequests(mesh, FRONT, target, 1);
        const setCookie = first?.headers["set-cookie"] ?? "";
        const value = /^session=([^;]+); Path=\/; Max-Age=600; HttpOnly$/.exec(setCookie)?.[1];
        t.truthy(value, `client ${client}: set-cookie "${setCookie}"`);
        const home = first?.body.split("\n")[0] ?? "";
        t.true(home === "v1" || home === "v2", `client ${client}: ${first?.body}`);
        const next = await rawRequests(
          mesh,
          FRONT,
          { ...target, headers: { Cookie: `session=${value}` } },
          3,
        );
        t.deepEqual(
          next.map((r) => r.body.split("\n")[0]),
          [home, home, home],
          `client ${client} left ${home}`,
        );
        t.true(
          next.every((r) => r.headers["set-cookie"] === undefined),
          "a client that has the cookie is not given another",
        );
        homes.add(home);
      }
      t.deepEqual([...homes].sort(), ["v1", "v2"], "10 clients are not all on one replica");
    } finally {
      await deleteAndWait(mesh, FRONT, sticky);
    }
  },
);

test.serial("a mirror copies front's requests to v2 while v1 answers them all", async (t) => {
  const mirror: ServiceConfigDoc = {
    kind: "Route",
    name: "back-mirror",
    spec: {
      service: "back",
      rules: [{ split: [{ labels: { version: "v1" }, weight: 1 }], mirror: { labels: { version: "v2" } } }],
    },
  };
  await applyAndWait(mesh, FRONT, mirror);
  try {
    const v2Before = await metricsOf(mesh, BACK("v2"));
    const frontBefore = await metricsOf(mesh, FRONT);
    const bodies = await bodiesFrom(mesh, FRONT, BACK_URL, 20);
    t.deepEqual(bodies, new Array(20).fill("v1"), "the client only ever sees the split's answers");
    // The copies reach v2's own sidecar and app (answered 200 there, the answers dropped).
    let copies = 0;
    for (let i = 0; i < 50 && copies < 20; i++) {
      copies = metricDelta(v2Before, await metricsOf(mesh, BACK("v2")), "weft_requests_total", {
        direction: "inbound",
        code: "200",
      });
      if (copies < 20) await new Promise((r) => setTimeout(r, 100));
    }
    t.is(copies, 20, "v2's sidecar received a copy of every request");
    t.is(
      metricDelta(frontBefore, await metricsOf(mesh, FRONT), "weft_mirror_requests_total", {
        service: "back",
        outcome: "2xx",
      }),
      20,
    );
  } finally {
    await deleteAndWait(mesh, FRONT, mirror);
  }
});

test.serial("a replica that refuses connections stops getting traffic on its own", async (t) => {
  // v3 registers as an endpoint of back, but nothing listens on 8080 in it: its sidecar answers 503.
  await runBack("v3", ["sleep", "3600"]);
  try {
    await frontSeesBacks(["v1", "v2", "v3"]);
    const v3 = `${await addressOf(mesh, BACK("v3"))}:8080`;

    // The default balancer (P2C over peak EWMA latency): a failed attempt costs v3 a latency
    // penalty, so it is rarely picked again; the default retry moves each failure elsewhere.
    const start = await metricsOf(mesh, FRONT);
    const bodies = await bodiesFrom(mesh, FRONT, BACK_URL, 100);
    const metrics = await metricsOf(mesh, FRONT);
    t.log(
      `least_request: v1 ${count(bodies, "v1")}, v2 ${count(bodies, "v2")}, failed ${count(bodies, "ERR")}`,
    );
    t.log(series(metrics));
    t.is(count(bodies, "v1") + count(bodies, "v2"), 100, `every request succeeds: ${JSON.stringify(bodies)}`);
    const retries = metricDelta(start, metrics, "weft_upstream_retries_total", { service: "back" });
    t.true(retries >= 1, "the retries are counted");
    const gotV3 = metricDelta(start, metrics, "weft_upstream_requests_total", {
      service: "back",
      endpoint: v3,
    });
    t.true(gotV3 >= 1 && gotV3 <= 10, `v3 got ${gotV3} of the attempts`);

    // Round robin would keep sending v3 its share: the default outlier detection ejects it instead.
    await applyAndWait(mesh, FRONT, ROUND_ROBIN);
    const rr = await bodiesFrom(mesh, FRONT, BACK_URL, 100);
    const after = await metricsOf(mesh, FRONT);
    t.log(`round_robin: v1 ${count(rr, "v1")}, v2 ${count(rr, "v2")}, failed ${count(rr, "ERR")}`);
    t.log(series(after));
    t.is(count(rr, "v1") + count(rr, "v2"), 100, `every request succeeds: ${JSON.stringify(rr)}`);
    const ejections = metricDelta(metrics, after, "weft_outlier_ejections_total", {
      service: "back",
      endpoint: v3,
    });
    t.true(ejections >= 1, `weft_outlier_ejections_total for ${v3} grew by ${ejections}`);
  } finally {
    await deleteAndWait(mesh, FRONT, ROUND_ROBIN);
    await mesh.weftOk(["rm", "-f", BACK("v3")], 60_000);
    await frontSeesBacks(["v1", "v2"]);
    // Front's sidecar keeps an address's state (its ejection) until a request finds it gone from
    // the service; the next replica may get v3's address and must start fresh.
    await bodiesFrom(mesh, FRONT, BACK_URL, 2);
  }
});

test.serial("an endpoint that refuses TCP connections is ejected for connect failures", async (t) => {
  // No sidecar in v4: a connection to its 8080 is refused by its kernel, a connect failure at front.
  await mesh.weftOk(
    ["run", "-d", "--name", BACK("v4"), "--service", "back", "--port", "8080/http", "--no-sidecar"].concat([
      "--label",
      "version=v4",
      "--memory",
      "64m",
      "hello-mesh",
      "sleep",
      "3600",
    ]),
  );
  try {
    await applyAndWait(mesh, FRONT, ROUND_ROBIN);
    await frontSeesBacks(["v1", "v2", "v4"]);
    const v4 = `${await addressOf(mesh, BACK("v4"))}:8080`;
    const start = await metricsOf(mesh, FRONT);
    const bodies = await bodiesFrom(mesh, FRONT, BACK_URL, 60);
    const metrics = await metricsOf(mesh, FRONT);
    t.log(series(metrics));
    t.log(
      `round_robin with v4 refusing: v1 ${count(bodies, "v1")}, v2 ${count(bodies, "v2")}, failed ${count(bodies, "ERR")}`,
    );
    t.is(count(bodies, "v1") + count(bodies, "v2"), 60, `every request succeeds: ${JSON.stringify(bodies)}`);
    t.true(
      metricDelta(start, metrics, "weft_upstream_retries_total", {
        service: "back",
        endpoint: v4,
        reason: "connect-failure",
      }) >= 1,
      "connect failures are retried elsewhere",
    );
    const ejections = metricDelta(start, metrics, "weft_outlier_ejections_total", {
      service: "back",
      endpoint: v4,
    });
    t.true(ejections >= 1, `weft_outlier_ejections_total for ${v4} grew by ${ejections}`);
  } finally {
    await deleteAndWait(mesh, FRONT, ROUND_ROBIN);
    await mesh.weftOk(["rm", "-f", BACK("v4")], 60_000);
    await frontSeesBacks(["v1", "v2"]);
  }
});

const FAULTS: ServiceConfigDoc = {
  kind: "Route",
  name: "back-faults",
  spec: {
    service: "back",
    rules: [
      { match: { pathPrefix: "/fault" }, fault: { abortRatio: 1, abortStatus: 503 } },
      {
        match: { pathPrefix: "/cgi-bin/slow", headers: { "x-test-timeout": "per-try" } },
        timeoutMs: 20_000,
        retries: { attempts: 1, perTryTimeoutMs: 200, retryOnStatus: [503] },
      },
      { match: { pathPrefix: "/cgi-bin/slow" }, timeoutMs: 200 },
    ],
  },
};

test.serial("an injected abort answers without an endpoint; a route timeout answers 504", async (t) => {
  // Without a route the slow CGI answers (in 2 s): the 504 below is the route's doing.
  const [plain] = await rawRequests(mesh, FRONT, SLOW, 1);
  t.is(plain?.status, 200, JSON.stringify(plain));
  t.regex(plain?.body ?? "", /slow v[12]/);
  try {
    await applyAndWait(mesh, FRONT, FAULTS);
    const before = await metricsOf(mesh, FRONT);
    const aborted = await rawRequests(mesh, FRONT, { host: "back", port: 8080, path: "/fault/x" }, 5);
    t.deepEqual(
      aborted.map((r) => r.status),
      [503, 503, 503, 503, 503],
      JSON.stringify(aborted),
    );
    const after = await metricsOf(mesh, FRONT);
    const attempts = metricDelta(before, after, "weft_upstream_requests_total", { service: "back" });
    t.is(attempts, 0, "no attempt reached an endpoint for an aborted request");
    t.is(metricDelta(before, after, "weft_faults_injected_total", { service: "back", kind: "abort" }), 5);

    const others = await bodiesFrom(mesh, FRONT, BACK_URL, 5);
    t.true(
      others.every((b) => b === "v1" || b === "v2"),
      `other paths still answer: ${JSON.stringify(others)}`,
    );

    const timedOut = await rawRequests(mesh, FRONT, SLOW, 3);
    t.deepEqual(
      timedOut.map((r) => r.status),
      [504, 504, 504],
      JSON.stringify(timedOut),
    );

    // Per-try timeouts: both tries time out, the request gets 504 and the timeouts are counted.
    const beforePerTry = await metricsOf(mesh, FRONT);
    const perTry = await rawRequests(mesh, FRONT, { ...SLOW, headers: { "x-test-timeout": "per-try" } }, 1);
    t.is(perTry[0]?.status, 504, JSON.stringify(perTry));
    const afterPerTry = await metricsOf(mesh, FRONT);
    const delta = (name: string, labels: Record<string, string>) =>
      metricDelta(beforePerTry, afterPerTry, name, { service: "back", ...labels });
    t.is(delta("weft_upstream_timeouts_total", {}), 2);
    t.is(delta("weft_upstream_retries_total", { reason: "timeout" }), 1);
  } finally {
    await deleteAndWait(mesh, FRONT, FAULTS);
  }
});

const HEADERS: ServiceConfigDoc = {
  kind: "Route",
  name: "back-headers",
  spec: {
    service: "back",
    rules: [
      {
        match: { pathPrefix: "/cgi-bin/headers" },
        headers: {
          request: { set: { "x-tenant": "blue" }, remove: ["x-secret"] },
          response: { add: { "x-route": "back-headers" }, remove: ["x-internal"] },
        },
      },
      {
        match: { pathPrefix: "/legacy" },
        rewrite: { pathPrefix: "/cgi-bin/headers", authority: "back.internal" },
      },
      { match: { pathExact: "/moved" }, redirect: { path: "/cgi-bin/headers", status: 302 } },
      {},
    ],
  },
};

test.serial(
  "a route edits headers, rewrites the path and Host, and redirects, live with weft apply",
  async (t) => {
    const target = {
      host: "back",
      port: 8080,
      path: "/cgi-bin/headers",
      headers: { "x-tenant": "red", "x-secret": "s" },
    };
    const [plain] = await rawRequests(mesh, FRONT, target, 1);
    t.is(plain?.body, "tenant=red secret=s host=back:8080 query=", JSON.stringify(plain));
    t.is(plain?.headers["x-internal"], "1");
    try {
      await applyAndWait(mesh, FRONT, HEADERS);
      const [edited] = await rawRequests(mesh, FRONT, target, 1);
      t.is(edited?.body, "tenant=blue secret= host=back:8080 query=", JSON.stringify(edited));
      t.is(edited?.headers["x-route"], "back-headers");
      t.is(edited?.headers["x-internal"], undefined);
      // Other paths fall to the rule without modifiers.
      const [other] = await rawRequests(mesh, FRONT, { ...target, path: "/" }, 1);
      t.is(other?.headers["x-route"], undefined);
      // The rewrite rule sends /legacy to the CGI with another Host; the query goes along.
      const [rewritten] = await rawRequests(mesh, FRONT, { ...target, path: "/legacy?from=old" }, 1);
      t.is(
        rewritten?.body,
        "tenant=red secret=s host=back.internal query=from=old",
        JSON.stringify(rewritten),
      );
      // The redirect rule is answered by the client's sidecar, with the Host the app sent.
      const [moved] = await rawRequests(mesh, FRONT, { ...target, path: "/moved" }, 1);
      t.is(moved?.status, 302, JSON.stringify(moved));
      t.is(moved?.headers.location, "http://back:8080/cgi-bin/headers");
    } finally {
      await deleteAndWait(mesh, FRONT, HEADERS);
    }
  },
);

// Two requests in flight at most. Not maxPendingRequests 0: a 0 there means the default (1024), as
// an unset proto3 field and as in Istio's connection pool settings.
const BREAKER: ServiceConfigDoc = {
  kind: "ResiliencePolicy",
  name: "back-breaker",
  spec: { service: "back", circuitBreaker: { maxConnections: 1, maxPendingRequests: 1 } },
};

test.serial("a circuit-breaker overflow is refused at once and counted", async (t) => {
  try {
    await applyAndWait(mesh, FRONT, BREAKER);
    const before = await metricsOf(mesh, FRONT);
    // Five at once, each taking 2 s at back: two fit, the others overflow.
    const responses = await rawRequests(mesh, FRONT, SLOW, 5, true);
    t.log(responses.map((r) => `${r.status} ${r.headers["x-weft-overflow"] ?? ""}`).join("; "));
    t.is(responses.length, 5);
    const overflowed = responses.filter(
      (r) => r.status === 503 && r.headers["x-weft-overflow"] !== undefined,
    );
    t.true(overflowed.length >= 1, `at least one overflow: ${JSON.stringify(responses)}`);
    t.true(
      responses.some((r) => r.status === 200 && /slow v[12]/.test(r.body)),
      "the request within the limit is answered",
    );
    const after = await metricsOf(mesh, FRONT);
    t.is(
      metricDelta(before, after, "weft_circuit_breaker_overflows_total", { service: "back" }),
      overflowed.length,
      "each refused request is counted",
    );
  } finally {
    await deleteAndWait(mesh, FRONT, BREAKER);
  }
});

const LIMITS: ServiceConfigDoc = {
  kind: "ResiliencePolicy",
  name: "back-limits",
  spec: {
    service: "back",
    rateLimit: {
      requestsPerSecond: 1,
      burst: 2,
      routes: [{ pathPrefix: "/cgi-bin/headers", requestsPerSecond: 0 }],
    },
  },
};

test.serial(
  "back's rate limit: each replica's sidecar answers 429 past its burst; an exempt path passes",
  async (t) => {
    const backs = [BACK("v1"), BACK("v2")];
    try {
      // Each replica keeps its own buckets: both sidecars must hold the policy.
      const version = await applyAndWait(mesh, backs[0] as string, LIMITS);
      await waitForSidecar(mesh, backs[1] as string, `back-limits v${version}`, (d) => {
        const p = d.policies.back;
        return p?.name === LIMITS.name && p.version === version;
      });
      const before = await Promise.all(backs.map((b) => metricsOf(mesh, b)));
      const responses = await rawRequests(mesh, FRONT, { host: "back", port: 8080, path: "/" }, 12, true);
      t.log(responses.map((r) => `${r.status} ${r.headers["x-weft-ratelimited"] ?? ""}`).join("; "));
      const limited = responses.filter((r) => r.status === 429);
      const answered = responses.filter((r) => r.status === 200 && /^v[12]$/.test(r.body.trim()));
      t.is(limited.length + answered.length, 12, JSON.stringify(responses));
      // Two replicas, a burst of 2 each and 1/s refill: at most 6 of 12 sent at once get through.
      t.true(answered.length >= 1 && answered.length <= 6, `${answered.length} answered`);
      t.true(limited.length >= 6, `${limited.length} limited`);
      for (const r of limited) {
        t.is(r.headers["retry-after"], "1");
        t.is(r.headers["x-weft-ratelimited"], "instance");
        t.regex(r.body, /rate limited: each instance of back takes at most 1 request per second/);
      }
      const after = await Promise.all(backs.map((b) => metricsOf(mesh, b)));
      const counted = backs
        .map((_, i) =>
          metricDelta(before[i] as string, after[i] as string, "weft_rate_limited_requests_total", {
            service: "back",
          }),
        )
        .reduce((a, b) => a + b, 0);
      t.is(counted, limited.length, "each 429 is counted by the replica that gave it");
      const exempt = await rawRequests(
        mesh,
        FRONT,
        { host: "back", port: 8080, path: "/cgi-bin/headers" },
        8,
        true,
      );
      t.deepEqual(
        exempt.map((r) => r.status),
        Array(8).fill(200),
        "the exempt path is never limited",
      );
    } finally {
      await deleteAndWait(mesh, backs[0] as string, LIMITS);
      await waitForSidecar(mesh, backs[1] as string, "no back-limits", (d) => d.policies.back === undefined);
    }
    const free = await rawRequests(mesh, FRONT, { host: "back", port: 8080, path: "/" }, 12, true);
    t.deepEqual(
      free.map((r) => r.status),
      Array(12).fill(200),
      "once deleted, nothing is limited",
    );
  },
);
