import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import test from "ava";
import {
  applyHeaderEdits,
  applyHeaderEditsFlat,
  type HeaderEdits,
  parseHeaderModifiers,
  SINGLE_VALUE_FIELDS,
} from "./header-edits";

test("the wire's modifiers parse to lower-case edits; one that changes nothing is none", (t) => {
  t.deepEqual(
    parseHeaderModifiers(
      { request: { set: { "X-Tenant": "blue" }, add: {}, remove: ["X-Debug"] }, response: null },
      "rules[0].headers",
    ),
    { request: { remove: ["x-debug"], set: [["x-tenant", "blue"]], add: [] } },
  );
  t.is(parseHeaderModifiers({ request: { set: {}, add: {}, remove: [] } }, "h"), undefined);
  t.is(parseHeaderModifiers(undefined, "h"), undefined);
});

test("a modifier the sidecar cannot honour is refused, naming the field", (t) => {
  const refused = (value: unknown) =>
    t.throws(() => parseHeaderModifiers(value, "rules[0].headers"))?.message;
  t.regex(
    refused({ request: { set: { host: "evil" } } }) ?? "",
    /rules\[0\]\.headers\.request\.set\.host: "host" is the sidecar's/,
  );
  t.regex(
    refused({ response: { add: { "x-a": "1\r\nx-b: 2" } } }) ?? "",
    /response\.add\.x-a must not hold control characters/,
  );
  // DEL and the other control characters: node:http2 refuses to send them, on every request.
  t.regex(
    refused({ request: { set: { "x-a": "a\x7fb" } } }) ?? "",
    /request\.set\.x-a must not hold control/,
  );
  t.is(parseHeaderModifiers({ request: { set: { "x-a": "a\tb" } } }, "h")?.request?.set[0]?.[1], "a\tb");
  t.regex(
    refused({ request: { remove: ["bad name"] } }) ?? "",
    /remove\[0\]: "bad name" is not an HTTP header name/,
  );
});

test("remove, then set (every value replaced), then add, whatever the case of the fields", (t) => {
  const e: HeaderEdits = { remove: ["x-secret"], set: [["x-tenant", "blue"]], add: [["x-tag", "route"]] };
  t.deepEqual(
    applyHeaderEdits(
      [
        ["X-Secret", "s"],
        ["X-Tenant", "red"],
        ["x-tenant", "green"],
        ["X-Tag", "client"],
        ["accept", "*/*"],
      ],
      e,
    ),
    [
      ["X-Tag", "client"],
      ["accept", "*/*"],
      ["x-tenant", "blue"],
      ["x-tag", "route"],
    ],
  );
  t.deepEqual(applyHeaderEditsFlat(["Content-Type", "text/plain", "X-Secret", "s", "X-Tenant", "red"], e), [
    "Content-Type",
    "text/plain",
    "x-tenant",
    "blue",
    "x-tag",
    "route",
  ]);
});

test("add to a single-value field the message has joins the values in that field; others get a field of their own", (t) => {
  const e: HeaderEdits = {
    remove: [],
    set: [],
    add: [
      ["user-agent", "weft"],
      ["x-tag", "route"],
      ["content-type", "x"],
    ],
  };
  const client: Array<[string, string]> = [
    ["User-Agent", "curl/8"],
    ["x-tag", "client"],
  ];
  t.deepEqual(applyHeaderEdits(client, e), [
    ["User-Agent", "curl/8, weft"],
    ["x-tag", "client"],
    ["x-tag", "route"],
    ["content-type", "x"],
  ]);
  // The caller's pairs are left as they were (the span and access log keep what the client sent).
  t.deepEqual(client[0], ["User-Agent", "curl/8"]);
  t.deepEqual(applyHeaderEditsFlat(["User-Agent", "curl/8", "x-tag", "client"], e), [
    "User-Agent",
    "curl/8, weft",
    "x-tag",
    "client",
    "x-tag",
    "route",
    "content-type",
    "x",
  ]);
  // set then add of the same single-value name: the set value, joined.
  t.deepEqual(applyHeaderEdits([], { remove: [], set: [["user-agent", "a"]], add: [["user-agent", "b"]] }), [
    ["user-agent", "a, b"],
  ]);
});

test("SINGLE_VALUE_FIELDS is exactly the fields node:http2 refuses a second value of", async (t) => {
  const server = http2.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  session.on("error", () => {});
  t.teardown(() => {
    session.destroy();
    server.close();
  });
  await new Promise((resolve) => session.once("connect", resolve));
  const names = Object.entries(http2.constants)
    .filter(([k, v]) => k.startsWith("HTTP2_HEADER_") && typeof v === "string" && !v.startsWith(":"))
    .map(([, v]) => v as string);
  t.true(names.length > 50, `${names.length} names`);
  const refused = names.filter((n) => {
    try {
      session.request({ [n]: ["a", "b"] }).close();
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "ERR_HTTP2_HEADER_SINGLE_VALUE";
    }
  });
  t.deepEqual([...refused].sort(), [...SINGLE_VALUE_FIELDS].sort());
});
