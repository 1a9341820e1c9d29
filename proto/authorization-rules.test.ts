import test from "ava";
import {
  type AuthorizationSpec,
  authorizationProblem,
  authorize,
  callerService,
} from "./authorization-rules";

const policy: AuthorizationSpec = {
  service: "orders",
  rules: [
    { action: "DENY", from: ["batch"], methods: ["DELETE"] },
    { action: "ALLOW", from: ["front", "checkout"], methods: ["GET", "POST"], pathPrefix: "/api/" },
    { action: "ALLOW", pathExact: "/healthz" },
    { action: "ALLOW", from: ["*"], methods: ["GET"], pathExact: "/status" },
  ],
};

test("the first matching rule decides; nothing matching gets the default, DENY unless it says ALLOW", (t) => {
  const get = (path: string) => ({ method: "GET", path });
  t.deepEqual(authorize(policy, "front", get("/api/orders?x=1")), { allowed: true, by: "rules[1]" });
  t.deepEqual(authorize(policy, "front", { method: "PUT", path: "/api/orders" }), {
    allowed: false,
    by: "defaultAction",
  });
  t.deepEqual(authorize(policy, "batch", { method: "DELETE", path: "/healthz" }), {
    allowed: false,
    by: "rules[0]",
  });
  // No `from`: plain text too.
  t.deepEqual(authorize(policy, undefined, get("/healthz")), { allowed: true, by: "rules[2]" });
  // "*": any caller with an identity, not plain text.
  t.true(authorize(policy, "anything", get("/status")).allowed);
  t.false(authorize(policy, undefined, get("/status")).allowed);
  // The query is not part of an exact path.
  t.true(authorize(policy, undefined, get("/healthz?full=1")).allowed);
  t.true(authorize({ ...policy, defaultAction: "ALLOW" }, "stranger", get("/anything")).allowed);
});

test("on a TCP connection, a rule naming methods or paths never lets more through than it says", (t) => {
  // ALLOW with HTTP-only fields does not match a connection; DENY matches on its callers alone.
  t.false(authorize(policy, "front").allowed);
  t.deepEqual(authorize(policy, "batch"), { allowed: false, by: "rules[0]" });
  t.true(authorize({ service: "db", rules: [{ action: "ALLOW", from: ["orders"] }] }, "orders").allowed);
  t.false(authorize({ service: "db", rules: [{ action: "ALLOW", from: ["orders"] }] }, "front").allowed);
});

test("a caller's service is read from its SPIFFE identity only", (t) => {
  t.is(callerService("spiffe://weft.local/ns/default/svc/front"), "front");
  t.is(callerService("spiffe://weft.local/ns/default/svc/front/extra"), undefined);
  t.is(callerService("https://front"), undefined);
  t.is(callerService(undefined), undefined);
});

test("rules a sidecar could not enforce are named", (t) => {
  const bad = (rule: object) => authorizationProblem({ service: "s", rules: [rule as never] });
  t.regex(bad({ action: "MAYBE" }) ?? "", /rules\[0\]: action must be ALLOW or DENY/);
  t.regex(bad({ action: "ALLOW", from: ["a b"] }) ?? "", /"a b" is neither a service name nor "\*"/);
  t.regex(bad({ action: "ALLOW", methods: ["get"] }) ?? "", /"get" is not an HTTP method/);
  t.regex(bad({ action: "ALLOW", pathPrefix: "/a", pathExact: "/a" }) ?? "", /give one/);
  t.regex(bad({ action: "ALLOW", pathExact: "nope" }) ?? "", /must start with "\/"/);
  t.regex(
    authorizationProblem({ service: "s", rules: [], defaultAction: "MAYBE" as never }) ?? "",
    /defaultAction/,
  );
  t.is(authorizationProblem(policy), undefined);
});
