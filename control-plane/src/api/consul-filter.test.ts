import test from "ava";
import { compileFilter, FilterError } from "./consul-filter";
import { CATALOG_SERVICE, HEALTH_SERVICE } from "./consul-filter-schema";

const entries = [
  {
    Node: { Node: "n1", Meta: {} },
    Service: {
      ID: "a",
      Service: "web",
      Tags: ["primary", "v1"],
      Port: 8080,
      Meta: { version: "v1", "team.name": "x" },
    },
    Checks: [{ Status: "passing" }],
  },
  {
    Node: { Node: "n2", Meta: { rack: "r2" } },
    Service: { ID: "b", Service: "web", Tags: [], Port: 9090, Meta: { version: "v2" } },
    Checks: [],
  },
  {
    Node: { Node: "n3", Meta: {} },
    Service: { ID: "c", Service: "web-canary", Tags: ["v2"], Port: 8080, Meta: {} },
  },
];

const ids = (expr: string) => entries.filter(compileFilter(expr)).map((e) => e.Service.ID);

test("equality on strings, numbers, and a map key by dot or by bracket", (t) => {
  t.deepEqual(ids('Service.Meta.version == "v2"'), ["b"]);
  t.deepEqual(ids("Service.Meta.version != v2"), ["a", "c"], "a missing key is not equal to anything");
  t.deepEqual(ids("Service.Port == 8080"), ["a", "c"]);
  t.deepEqual(ids('Service.Meta["team.name"] == `x`'), ["a"]);
  t.deepEqual(ids('Node.Meta["rack"] == "r2"'), ["b"]);
});

test("in, contains, is empty, matches, and their negations", (t) => {
  t.deepEqual(ids('"primary" in Service.Tags'), ["a"]);
  t.deepEqual(ids('"v2" not in Service.Tags'), ["a", "b"]);
  t.deepEqual(ids('Service.Tags contains "v2"'), ["c"]);
  t.deepEqual(ids("Service.Meta contains version"), ["a", "b"], "a map contains its keys");
  t.deepEqual(ids('Service.Service contains "canary"'), ["c"], "a string contains its substrings");
  t.deepEqual(ids("Service.Tags is empty"), ["b"]);
  t.deepEqual(ids("Checks is not empty"), ["a"]);
  t.deepEqual(ids("Node.Meta.rack is empty"), ["a", "c"]);
  t.deepEqual(ids('Service.Service matches "^web-"'), ["c"]);
  t.deepEqual(ids('Service.Service not matches "canary$"'), ["a", "b"]);
});

test("and binds tighter than or; not and parentheses", (t) => {
  t.deepEqual(ids('Service.Port == 9090 or Service.Port == 8080 and "v2" in Service.Tags'), ["b", "c"]);
  t.deepEqual(ids('(Service.Port == 9090 or Service.Port == 8080) and "v2" in Service.Tags'), ["c"]);
  t.deepEqual(ids('not Service.Meta.version == "v1"'), ["b", "c"]);
  t.deepEqual(ids("not (Service.Port == 8080 or Service.Tags is empty)"), []);
});

test("a malformed filter is refused, saying where", (t) => {
  const bad: Array<[string, RegExp]> = [
    ["", /empty/],
    ['Service.Meta.version = "v1"', /use == or !=/],
    ['Service.Meta.version == "v1', /not closed/],
    ["Service.Port >= 80", /unexpected ">" at 14/],
    ["Service.Port == 80 and", /ends too soon/],
    ["(Service.Port == 80", /ends too soon/],
    ["Service.Port == 80)", /unexpected "\)"/],
    ["Service.Port likes 80", /expected ==, !=, is empty, contains, matches or in at 14, got "likes"/],
    ['Service.Name matches "("', /not a regular expression/],
    ['1abc == "x"', /expected a selector/],
    ["x".repeat(5000), /longer than 4096/],
  ];
  for (const [expr, reason] of bad) {
    const err = t.throws(() => compileFilter(expr), { instanceOf: FilterError }, expr);
    t.regex(err?.message ?? "", reason, expr);
  }
});

test("with a schema, a selector must name a field of the items: maps take any key, structs only theirs", (t) => {
  for (const ok of [
    'Service.Meta.version == "v2"',
    'Service.Meta["team.name"] == "x"',
    '"primary" in Service.Tags',
    "Service.TaggedAddresses.lan.Port == 80",
    'Node.Meta.rack == "r2" and Checks.Status == "passing"',
    "Service.Weights.Passing == 10",
  ])
    t.notThrows(() => compileFilter(ok, HEALTH_SERVICE), ok);
  t.is(entries.filter(compileFilter('Service.Meta.version == "v2"', HEALTH_SERVICE)).length, 1);
  for (const [bad, selector] of [
    ['Bogus == "x"', "Bogus"],
    ['Service.Bogus == "x"', "Service.Bogus"],
    ['Service.Port.Deeper == "x"', "Service.Port.Deeper"],
    ['Service.Meta.version.more == "x"', "Service.Meta.version.more"],
    ['Node.Node == "n1" or not (ServiceName == "web")', "ServiceName"],
  ] as const)
    t.throws(() => compileFilter(bad, HEALTH_SERVICE), {
      instanceOf: FilterError,
      message: `Selector "${selector}" is not valid`,
    });
  t.notThrows(() => compileFilter('ServiceName == "web" and NodeMeta.rack == "r1"', CATALOG_SERVICE));
  t.throws(() => compileFilter('Service == "web"', CATALOG_SERVICE), { instanceOf: FilterError });
  t.notThrows(() => compileFilter('Bogus == "x"'), "without a schema any selector is taken");
});
