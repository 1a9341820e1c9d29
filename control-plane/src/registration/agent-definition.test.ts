import test from "ava";
import { parseAgentService, parseDuration } from "./agent-definition";

test("field names match case-insensitively and in snake_case, as Consul decodes them; IDs default as Consul's", (t) => {
  const r = parseAgentService({
    name: "web",
    Tags: ["a"],
    port: 8080,
    meta: { version: "v1" },
    check: { http: "http://127.0.0.1:8080/health", interval: "10s", deregister_critical_service_after: "1m" },
    Checks: [{ TTL: "30s" }, { CheckID: "own", TCP: "127.0.0.1:8080", Interval: "5s", Timeout: "2s" }],
  });
  t.true(r.ok);
  if (!r.ok) return;
  t.is(r.value.id, "web");
  t.deepEqual(
    r.value.checks.map((c) => [c.id, c.kind, c.intervalMs, c.timeoutMs, c.ttlMs, c.deregisterAfterMs]),
    [
      ["service:web", "http", 10_000, 10_000, 0, 60_000],
      ["service:web:1", "ttl", 0, 10_000, 30_000, 0],
      ["own", "tcp", 5000, 2000, 0, 0],
    ],
  );
  t.true(r.value.checks.every((c) => c.initialStatus === "critical" && c.serviceId === "web"));
});

test("durations are Go's: units, combinations, and bare numbers as nanoseconds", (t) => {
  t.is(parseDuration("1m30s", "f"), 90_000);
  t.is(parseDuration("250ms", "f"), 250);
  t.is(parseDuration(2_000_000_000, "f"), 2000);
  t.throws(() => parseDuration("10", "Interval"), { message: /Interval "10" is not a duration/ });
});
