import test from "ava";
import {
  applyHeaderEdits,
  applyHeaderEditsFlat,
  type HeaderEdits,
  parseHeaderModifiers,
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
