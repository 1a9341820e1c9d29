// The rewrite and redirect rules both sides of the contract check, and how a sidecar applies them
// to a request target (Gateway API's ReplaceFullPath and ReplacePrefixMatch, Istio's uri rewrite).
import test from "ava";
import { redirectLocation, redirectProblem, rewriteProblem, rewriteTarget } from "./rewrite-rules";

test("a prefix rewrite replaces what the rule's prefix matched, without doubling a slash; the query stays", (t) => {
  const cases: Array<[string, string, string, string]> = [
    // [target, match.pathPrefix, rewrite.pathPrefix, expected]
    ["/api/items", "/api", "/", "/items"],
    ["/api", "/api", "/", "/"],
    ["/api/", "/api", "/", "/"],
    ["/api/items?page=2", "/api", "/v2", "/v2/items?page=2"],
    ["/api/items", "/api/", "/v2/", "/v2/items"],
    ["/api/items", "/api", "/v2/", "/v2/items"],
    ["/apix", "/api", "/v2", "/v2x"],
  ];
  for (const [target, prefix, replacement, expected] of cases)
    t.is(
      rewriteTarget(target, { pathPrefix: replacement }, prefix),
      expected,
      `${target} with ${prefix} -> ${replacement}`,
    );
});

test("a path rewrite replaces the whole path and keeps the query; an authority-only rewrite keeps the target", (t) => {
  t.is(rewriteTarget("/old/a?x=1", { path: "/new" }, undefined), "/new?x=1");
  t.is(rewriteTarget("/old", { path: "/new" }, "/old"), "/new");
  t.is(rewriteTarget("/old?x", { authority: "b:80" }, undefined), "/old?x");
});

test("rewrites the sidecar cannot send, or that change nothing, say why", (t) => {
  t.is(rewriteProblem({ path: "/a/b;v=1/%20c" }, undefined), undefined);
  t.is(rewriteProblem({ pathPrefix: "/" }, "/api"), undefined);
  t.is(rewriteProblem({ authority: "catalog.shop.svc:8080" }, undefined), undefined);
  t.is(rewriteProblem({ authority: "[::1]:80" }, undefined), undefined);
  const problems: Array<[Parameters<typeof rewriteProblem>[0], string | undefined, RegExp]> = [
    [{ path: "new" }, undefined, /path must be a path starting with '\/'/],
    [{ path: "/a?b=1" }, undefined, /without a query/],
    [{ path: "/a b" }, undefined, /spaces/],
    [{ path: "/a\r\nx: y" }, undefined, /path must be a path/],
    [{ path: `/${"a".repeat(1024)}` }, undefined, /longer than 1024/],
    [{ path: "/a", pathPrefix: "/b" }, "/x", /path and pathPrefix are both set/],
    [{ pathPrefix: "/b" }, undefined, /this rule's match has no pathPrefix/],
    [{ authority: "a b" }, undefined, /authority must be host or host:port/],
    [{ authority: "host:99999" }, undefined, /authority must be host or host:port/],
    [{ authority: "user@host" }, undefined, /authority must be host or host:port/],
    [{}, undefined, /changes nothing/],
  ];
  for (const [rewrite, prefix, why] of problems)
    t.regex(rewriteProblem(rewrite, prefix) ?? "", why, JSON.stringify(rewrite));
});

test("a redirect's Location keeps each part of the request it does not replace", (t) => {
  t.is(redirectLocation("/old/a?x=1", "web", { pathPrefix: "/new" }, "/old"), "http://web/new/a?x=1");
  t.is(redirectLocation("/a", "web:8080", { scheme: "https" }, undefined), "https://web:8080/a");
  t.is(redirectLocation("/a", "web", { authority: "other:81", path: "/b" }, undefined), "http://other:81/b");
  t.is(redirectLocation("/a?q", "", { path: "/b" }, undefined), "/b?q", "no authority: a relative Location");
});

test("redirects that would loop or that a client cannot follow say why", (t) => {
  t.is(redirectProblem({ scheme: "https" }, undefined), undefined, "http to https is a redirect on its own");
  t.is(redirectProblem({ path: "/b", status: 308 }, undefined), undefined);
  t.regex(redirectProblem({ status: 302 }, undefined) ?? "", /back to the same URL/);
  t.regex(redirectProblem({}, undefined) ?? "", /back to the same URL/);
  t.regex(
    redirectProblem({ path: "/b", status: 200 }, undefined) ?? "",
    /status must be one of 301, 302, 303, 307, 308/,
  );
  t.regex(redirectProblem({ scheme: "ftp", path: "/b" }, undefined) ?? "", /scheme must be http or https/);
  t.regex(redirectProblem({ pathPrefix: "/b" }, undefined) ?? "", /match has no pathPrefix/);
});
