// Route matching (each condition, first match wins, in order) and weighted splits between label
// subsets: 90/10 holds over many requests, a new weight moves traffic at once, an empty subset is
// left out, and no subset with endpoints is a 503 that names them.
import test from "ava";
import type { RouteRuleConfig } from "../config/types";
import { endpoint, get, HTTP80, ok, routes, run, seeded } from "./fixtures";
import { chooseSubset, matchRule } from "./route-table";
import { ServiceUpstreams } from "./service-upstreams";

const match = (m: Partial<NonNullable<RouteRuleConfig["match"]>>) => ({
  pathPrefix: "",
  pathExact: "",
  method: "",
  headers: {},
  ...m,
});

test("each match condition selects its rule; the query string is not part of the path", (t) => {
  const table = routes(
    { name: "exact", match: match({ pathExact: "/login" }) },
    { name: "prefix", match: match({ pathPrefix: "/api/" }) },
    { name: "method", match: match({ method: "DELETE" }) },
    { name: "header", match: match({ headers: { "X-Canary": "yes" } }) },
    { name: "rest" },
  );
  t.is(matchRule(table, get("/login?next=/")).route, "exact");
  t.is(matchRule(table, get("/login/more")).route, "rest");
  t.is(matchRule(table, get("/api/users?id=1")).route, "prefix");
  t.is(matchRule(table, get("/x", [], "delete")).route, "method");
  t.is(matchRule(table, get("/x", [["x-canary", "yes"]])).route, "header");
  t.is(matchRule(table, get("/x", [["x-canary", "YES"]])).route, "rest", "header values match exactly");
  t.is(matchRule(table, get("/x")).route, "rest");
});

test("all conditions of a match must hold, and the first matching rule wins", (t) => {
  const table = routes(
    { name: "post-api", match: match({ pathPrefix: "/api", method: "POST" }) },
    { name: "api", match: match({ pathPrefix: "/api" }) },
    { name: "also-api", match: match({ pathPrefix: "/api" }) },
  );
  t.is(matchRule(table, get("/api", [], "POST")).route, "post-api");
  t.is(matchRule(table, get("/api", [], "GET")).route, "api");
  t.is(matchRule(table, get("/other")).route, "default");
  t.is(matchRule(undefined, get("/")).route, "default");
});

test("a TCP connection (no request) only takes a rule without match conditions", (t) => {
  const table = routes({ name: "api", match: match({ pathPrefix: "/" }) }, { name: "all" });
  t.is(matchRule(table).route, "all");
  t.is(matchRule(routes({ name: "api", match: match({ pathPrefix: "/" }) })).route, "default");
});

test("a 90/10 split holds within a few percent over 10k requests, and new weights move traffic at once", (t) => {
  const up = new ServiceUpstreams({ random: seeded(7) });
  const endpoints = [
    endpoint(1, { version: "v1" }),
    endpoint(2, { version: "v1" }),
    endpoint(3, { version: "v2" }),
  ];
  const share = (v1: number, v2: number) => {
    const table = routes({
      split: [
        { labels: { version: "v1" }, weight: v1 },
        { labels: { version: "v2" }, weight: v2 },
      ],
    });
    let canary = 0;
    for (let i = 0; i < 10_000; i++) {
      const plan = up.plan({ service: "web", servicePort: HTTP80, endpoints, routes: table, request: get() });
      if (run(plan, () => ok()).tried[0] === "web-3") canary++;
    }
    return canary / 10_000;
  };
  const before = share(90, 10);
  t.true(Math.abs(before - 0.1) < 0.02, `canary share ${before}`);
  const after = share(50, 50);
  t.true(Math.abs(after - 0.5) < 0.03, `canary share ${after}`);
});

test("a subset without endpoints is left out of the draw; none with endpoints is a 503 naming them", (t) => {
  const rule: RouteRuleConfig = {
    split: [
      { labels: { version: "v1" }, weight: 10 },
      { labels: { version: "v2" }, weight: 90 },
    ],
    timeoutMs: 0,
  };
  const v1Only = [{ endpoint: endpoint(1, { version: "v1" }) }];
  for (let i = 0; i < 100; i++) {
    const c = chooseSubset("web", rule, v1Only, seeded(i));
    t.true(c.ok && c.endpoints.length === 1);
  }
  const none = chooseSubset("web", rule, [{ endpoint: endpoint(1, { version: "v3" }) }], seeded(1));
  t.false(none.ok);
  if (!none.ok) {
    t.regex(none.message, /"web".*\{version=v1\}, \{version=v2\}/);
    t.true(none.message.endsWith("\n"));
  }
  const up = new ServiceUpstreams();
  const plan = up.plan({
    service: "web",
    servicePort: HTTP80,
    endpoints: [endpoint(1, { version: "v3" })],
    routes: { service: "web", routes: [{ name: "canary", version: 1, rules: [rule] }] },
    request: get(),
  });
  t.like(plan, { status: 503, route: "canary" });
});

test("a mirror draws its ratio per request and a random endpoint of its subset, whatever the split chose", (t) => {
  const up = new ServiceUpstreams({ random: seeded(7) });
  const endpoints = [
    endpoint(1, { version: "v1" }),
    endpoint(2, { version: "v2" }),
    endpoint(3, { version: "v2" }),
  ];
  const plans = (ratio: number, n: number) =>
    Array.from({ length: n }, () =>
      up.plan({
        service: "web",
        servicePort: HTTP80,
        endpoints,
        routes: routes({
          split: [{ labels: { version: "v1" }, weight: 1 }],
          mirror: { labels: { version: "v2" }, ratio },
        }),
        request: get(),
      }),
    ) as Array<{ mirror?: { endpoint: string }; next?: unknown }>;
  const all = plans(1, 400).map((p) => p.mirror?.endpoint);
  t.true(
    all.every((e) => e === "10.0.0.2:80" || e === "10.0.0.3:80"),
    "copies go to the mirror's subset only",
  );
  const onTwo = all.filter((e) => e === "10.0.0.2:80").length;
  t.true(onTwo > 140 && onTwo < 260, `${onTwo} of 400 copies on one of two endpoints`);
  const some = plans(0.1, 2000).filter((p) => p.mirror).length;
  t.true(some > 130 && some < 270, `${some} of 2000 copied at 10%`);
  const none = up.plan({
    service: "web",
    servicePort: HTTP80,
    endpoints: [endpoint(1, { version: "v1" })],
    routes: routes({ mirror: { labels: { version: "v2" }, ratio: 1 } }),
    request: get(),
  });
  t.false(
    "mirror" in none && none.mirror !== undefined,
    "no endpoint in the subset: no copy, and the request goes on",
  );
  t.true("next" in none);
  const tcp = up.plan({
    service: "web",
    servicePort: HTTP80,
    endpoints,
    routes: routes({ mirror: { labels: { version: "v2" }, ratio: 1 } }),
  });
  t.is((tcp as { mirror?: unknown }).mirror, undefined, "an opaque TCP connection is never copied");
});
