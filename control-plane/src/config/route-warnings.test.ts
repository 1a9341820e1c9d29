import test from "ava";
import { routeWarnings } from "./route-warnings";
import type { RouteSpec } from "./types";

const endpoints = [{ labels: { version: "v1", zone: "a" } }, { labels: { version: "v1", zone: "b" } }];
const split = (...subsets: Array<[Record<string, string>, number]>): RouteSpec => ({
  service: "back",
  rules: [{ timeoutMs: 100 }, { split: subsets.map(([labels, weight]) => ({ labels, weight })) }],
});

test("a subset that matches no endpoint is named, with the share the others take", (t) => {
  t.deepEqual(routeWarnings(split([{ version: "v1" }, 90], [{ version: "v2" }, 10]), endpoints), [
    'spec.rules[1].split[1]: {version=v2} matches no endpoint of service "back" now; its 10% goes to the other subsets until a workload with those labels starts',
  ]);
});

test("when no subset has an endpoint, the rule's requests fail: that is said", (t) => {
  const [w] = routeWarnings(split([{ version: "v2" }, 50], [{ version: "v3" }, 50]), endpoints);
  t.regex(
    w ?? "",
    /^spec\.rules\[1\]: no subset of its split matches .*\{version=v2\}, \{version=v3\}.*fail with 503/,
  );
});

test("nothing to say when every subset matches, a missing one weighs 0, or the service has no endpoint yet", (t) => {
  t.deepEqual(routeWarnings(split([{ version: "v1", zone: "b" }, 1], [{ zone: "a" }, 1]), endpoints), []);
  t.deepEqual(routeWarnings(split([{ version: "v1" }, 1], [{ version: "v2" }, 0]), endpoints), []);
  t.deepEqual(routeWarnings(split([{ version: "v2" }, 1]), []), []);
});

test("a mirror whose labels match no endpoint copies nothing: that is said, and one that matches is not", (t) => {
  const mirror = (labels: Record<string, string>): RouteSpec => ({
    service: "back",
    rules: [{ mirror: { labels, ratio: 1 } }],
  });
  t.deepEqual(routeWarnings(mirror({ version: "v2" }), endpoints), [
    'spec.rules[0].mirror: {version=v2} matches no endpoint of service "back" now; nothing is copied until a workload with those labels starts',
  ]);
  t.deepEqual(routeWarnings(mirror({ zone: "b" }), endpoints), []);
});
