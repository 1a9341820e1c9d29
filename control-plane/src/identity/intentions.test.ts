// Consul intentions read from and written into an AuthorizationPolicy: each write decides what the
// sidecars then let through (checked with the same authorize() they run), as Consul would.
import test from "ava";
import { type AuthorizationSpec, authorize } from "../../../proto/authorization-rules";
import {
  intentionId,
  intentionIn,
  intentionsOf,
  type PolicyView,
  withIntention,
  withoutSource,
} from "./intentions";

const policy = (spec: AuthorizationSpec): PolicyView => ({
  name: "api-authz",
  spec,
  version: 7,
  createdAt: "2026-12-01T00:00:00.000Z",
  updatedAt: "2026-12-02T00:00:00.000Z",
});
const allowed = (spec: AuthorizationSpec, caller: string | undefined, method?: string, path?: string) =>
  authorize(spec, caller, method ? { method, path: path ?? "/" } : undefined).allowed;

test("a deny intention on a service without a policy takes away only that caller", (t) => {
  const spec = withIntention(undefined, "api", "batch", { Action: "deny" });
  t.deepEqual(spec, { service: "api", rules: [{ action: "DENY", from: ["batch"] }], defaultAction: "ALLOW" });
  t.false(allowed(spec, "batch"));
  t.true(allowed(spec, "web"));
  t.true(allowed(spec, undefined), "plain text, as with no policy");
  const [read] = intentionsOf(policy(spec));
  t.like(read, {
    ID: intentionId("batch", "api"),
    SourceName: "batch",
    DestinationName: "api",
    Action: "deny",
    Precedence: 9,
    SourceType: "consul",
    ModifyIndex: 7,
    // Nothing made up: Terraform reads these back and compares them with what it wrote.
    Description: "",
    Meta: {},
  });
  t.is(read?.Permissions, undefined);
});

test("Description and Meta are kept on the intention's first rule and read back as written", (t) => {
  const notes = { Description: "batch may not call api", Meta: { owner: "team-a", ticket: "SEC-1" } };
  let spec = withIntention(undefined, "api", "batch", { Action: "deny", ...notes });
  spec = withIntention(spec, "api", "web", {
    Permissions: [{ Action: "allow", HTTP: { PathPrefix: "/read" } }],
    Description: "web reads",
  });
  t.deepEqual(spec.rules[0], {
    action: "DENY",
    from: ["batch"],
    description: "batch may not call api",
    meta: { owner: "team-a", ticket: "SEC-1" },
  });
  const read = Object.fromEntries(intentionsOf(policy(spec)).map((i) => [i.SourceName, i]));
  t.like(read.batch, notes);
  t.like(read.web, { Description: "web reads", Meta: {} });
  // The notes change no decision, and rewriting an intention without them drops them.
  t.false(allowed(spec, "batch"));
  t.true(allowed(spec, "web", "GET", "/read/x"));
  spec = withIntention(spec, "api", "batch", { Action: "deny" });
  t.like(
    intentionsOf(policy(spec)).find((i) => i.SourceName === "batch"),
    { Description: "", Meta: {} },
  );
});

test("a named source outranks '*' wherever either was written, as Consul's precedence says", (t) => {
  // Zero trust: '*' denied (plain text too), then web allowed.
  let spec = withIntention(undefined, "api", "*", { Action: "deny" });
  spec = withIntention(spec, "api", "web", { Action: "allow" });
  t.deepEqual(spec.rules, [{ action: "ALLOW", from: ["web"] }, { action: "DENY" }]);
  t.true(allowed(spec, "web"));
  t.false(allowed(spec, "batch"));
  t.false(allowed(spec, undefined), "a '*' deny shuts plain text out too");
  // Written the other way round, the same.
  let other = withIntention(undefined, "api", "web", { Action: "allow" });
  other = withIntention(other, "api", "*", { Action: "deny" });
  t.deepEqual(other.rules, spec.rules);
  t.deepEqual(
    intentionsOf(policy(spec)).map((i) => [i.SourceName, i.Action, i.Precedence]),
    [
      ["web", "allow", 9],
      ["*", "deny", 8],
    ],
  );
});

test("an intention written again replaces its rules; other callers' rules stay where they were", (t) => {
  const userPolicy: AuthorizationSpec = {
    service: "api",
    rules: [
      { action: "ALLOW", from: ["web", "batch"], methods: ["GET"] },
      { action: "ALLOW", from: ["admin"] },
      { action: "DENY", from: ["*"], pathPrefix: "/admin" },
    ],
  };
  t.deepEqual(
    intentionsOf(policy(userPolicy)).map((i) => i.SourceName),
    ["admin", "batch", "web", "*"],
  );
  const spec = withIntention(userPolicy, "api", "batch", { Action: "deny" });
  t.deepEqual(spec.rules, [
    { action: "ALLOW", from: ["web"], methods: ["GET"] },
    { action: "ALLOW", from: ["admin"] },
    { action: "DENY", from: ["batch"] },
    { action: "DENY", from: ["*"], pathPrefix: "/admin" },
  ]);
  t.is(spec.defaultAction, undefined, "the user's default (DENY) is kept");
  t.true(allowed(spec, "web", "GET", "/x"));
  t.false(allowed(spec, "batch", "GET", "/x"));
  t.is(intentionIn(policy(spec), "batch")?.Action, "deny");
  // Deleted, batch's rules go and nothing else changes.
  t.deepEqual(withoutSource(spec, "batch").rules, [
    { action: "ALLOW", from: ["web"], methods: ["GET"] },
    { action: "ALLOW", from: ["admin"] },
    { action: "DENY", from: ["*"], pathPrefix: "/admin" },
  ]);
  t.is(intentionIn(policy(withoutSource(spec, "batch")), "batch"), undefined);
});

test("L7 permissions: first match decides, a request none matches gets the default, and they read back as written", (t) => {
  const permissions = [
    { Action: "deny" as const, HTTP: { PathPrefix: "/admin" } },
    { Action: "allow" as const, HTTP: { PathPrefix: "/", Methods: ["GET", "HEAD"] } },
  ];
  // Under a default-deny policy, a POST from web matches no permission: denied, even though '*' allows.
  let spec: AuthorizationSpec = { service: "api", rules: [], defaultAction: "DENY" };
  spec = withIntention(spec, "api", "*", { Action: "allow" });
  spec = withIntention(spec, "api", "web", { Permissions: permissions });
  t.false(allowed(spec, "web", "GET", "/admin/users"));
  t.true(allowed(spec, "web", "GET", "/orders"));
  t.false(allowed(spec, "web", "POST", "/orders"), "no permission matched: the default, not '*'");
  t.true(allowed(spec, "batch", "POST", "/orders"), "'*' still covers other callers");
  const read = intentionIn(policy(spec), "web");
  t.deepEqual(read?.Permissions, permissions);
  t.is(read?.Action, undefined);
  // A rule for every request of the caller with another action than the default is a permission.
  const widened: AuthorizationSpec = {
    service: "api",
    rules: [
      { action: "ALLOW", from: ["web"], pathExact: "/ping" },
      { action: "DENY", from: ["web"] },
    ],
    defaultAction: "ALLOW",
  };
  t.deepEqual(intentionIn(policy(widened), "web")?.Permissions, [
    { Action: "allow", HTTP: { PathExact: "/ping" } },
    { Action: "deny", HTTP: { PathPrefix: "/" } },
  ]);
});

test("IDs are stable per pair and shaped as Consul's", (t) => {
  t.is(intentionId("web", "api"), intentionId("web", "api"));
  t.not(intentionId("web", "api"), intentionId("api", "web"));
  t.regex(intentionId("web", "api"), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});
