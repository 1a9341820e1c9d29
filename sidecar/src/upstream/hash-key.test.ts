import test from "ava";
import type { RequestInfo } from "../http/route";
import { get } from "./fixtures";
import { hashKeyOf, requestHashKey } from "./hash-key";

test("a header's key is its first value, whatever the case of its name", (t) => {
  const req = get("/", [
    ["X-User", "alice"],
    ["x-user", "bob"],
  ]);
  t.is(hashKeyOf({ httpHeaderName: "x-user" }, req, undefined), "alice");
  t.is(hashKeyOf({ httpHeaderName: "x-tenant" }, req, undefined), undefined);
});

test("a cookie's key is read from any Cookie header, spaces around pairs ignored", (t) => {
  const req = get("/", [
    ["cookie", "a=1;b=2"],
    ["Cookie", " theme=dark ;  session=s-42 "],
  ]);
  t.is(hashKeyOf({ httpCookieName: "session" }, req, undefined), "s-42");
  t.is(hashKeyOf({ httpCookieName: "b" }, req, undefined), "2");
  t.is(
    hashKeyOf({ httpCookieName: "sess" }, req, undefined),
    undefined,
    "a prefix of a name is not the name",
  );
  t.is(hashKeyOf({ httpCookieName: "session" }, get("/"), undefined), undefined);
});

test("a query parameter's key is its first raw value; a bare name is an empty value", (t) => {
  const key = (path: string) => hashKeyOf({ httpQueryParameterName: "user" }, get(path), undefined);
  t.is(key("/cart?item=3&user=al%20ice&user=bob"), "al%20ice");
  t.is(key("/cart?user"), "");
  t.is(key("/cart?username=x"), undefined);
  t.is(key("/cart?x=1#user=frag"), undefined, "a fragment is not the query");
  t.is(key("/cart"), undefined);
});

test("the source address is the request's client, or an opaque connection's peer", (t) => {
  const req: RequestInfo = { ...get("/"), clientAddress: "10.88.0.5" };
  t.is(hashKeyOf({ useSourceIp: true }, req, "127.0.0.1"), "10.88.0.5");
  t.is(hashKeyOf({ useSourceIp: true }, undefined, "10.88.0.6"), "10.88.0.6");
  t.is(hashKeyOf({ httpHeaderName: "x-user" }, undefined, "10.88.0.6"), undefined, "TCP has no headers");
});

test("generateCookie: a request without the cookie, or with it empty, is keyed by a new value set on the response", (t) => {
  const source = { httpCookieName: "session", generateCookie: { path: "/shop", ttlSeconds: 3600 } };
  const made = requestHashKey(source, get("/"), undefined, () => "v-1");
  t.deepEqual(made, { key: "v-1", setCookie: "session=v-1; Path=/shop; Max-Age=3600; HttpOnly" });
  t.deepEqual(requestHashKey(source, get("/", [["cookie", "session="]]), undefined, () => "v-2")?.key, "v-2");
  t.deepEqual(
    requestHashKey(source, get("/", [["cookie", "session=s-42"]]), undefined, () => "v-3"),
    { key: "s-42" },
    "a request that has the cookie keeps it, and nothing is set",
  );
  t.is(
    requestHashKey(source, undefined, "10.88.0.6", () => "v-4"),
    undefined,
    "an opaque TCP connection has no response to set a cookie on",
  );
  t.deepEqual(
    requestHashKey(
      { httpCookieName: "session", generateCookie: { path: "/", ttlSeconds: 0 } },
      get("/"),
      undefined,
      () => "v-5",
    ),
    { key: "v-5", setCookie: "session=v-5; Path=/; HttpOnly" },
    "ttl 0 is a session cookie: no Max-Age",
  );
  t.is(
    requestHashKey({ httpCookieName: "session" }, get("/"), undefined, () => "v-6"),
    undefined,
    "without generateCookie, no key",
  );
  t.not(
    requestHashKey(source, get("/"), undefined)?.key,
    requestHashKey(source, get("/"), undefined)?.key,
    "made-up values differ between requests",
  );
});
