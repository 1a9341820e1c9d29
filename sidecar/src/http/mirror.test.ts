import test from "ava";
import { Metrics } from "../telemetry/metrics";
import { Mirrors, shadowAuthority } from "./mirror";

test('"-shadow" goes after the host, before any port (Envoy\'s rule)', (t) => {
  t.is(shadowAuthority("reviews:8080"), "reviews-shadow:8080");
  t.is(shadowAuthority("reviews"), "reviews-shadow");
  t.is(shadowAuthority("[::1]:80"), "[::1]-shadow:80");
  t.is(shadowAuthority("::1"), "::1-shadow");
});

test("copies past the bound in flight are dropped and counted, and each ends once", (t) => {
  const metrics = new Metrics();
  const mirrors = new Mirrors(metrics, 2);
  const target = { host: "127.0.0.1", port: 1, endpoint: "127.0.0.1:1", meshTlsService: "" };
  const a = mirrors.begin("web", target);
  const b = mirrors.begin("web", target);
  t.truthy(a);
  t.truthy(b);
  t.is(mirrors.begin("web", target), undefined, "a third while two are out");
  a?.("2xx");
  a?.("error"); // a second call changes nothing
  t.truthy(mirrors.begin("web", target), "room again once one ended");
  const text = metrics.render();
  t.regex(text, /weft_mirror_requests_total\{service="web",endpoint="127.0.0.1:1",outcome="dropped"\} 1/);
  t.regex(text, /weft_mirror_requests_total\{service="web",endpoint="127.0.0.1:1",outcome="2xx"\} 1/);
  t.notRegex(text, /outcome="error"/);
  mirrors.close();
});
