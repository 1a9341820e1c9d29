// The rate-limit rules both sides of the contract check, and which bucket a request counts against.
import test from "ava";
import { matchingRoute, rateLimitProblem } from "./rate-limit-rules";

test("a rate limit must limit something, and a burst goes with a rate", (t) => {
  t.is(rateLimitProblem({ requestsPerSecond: 100 }), undefined);
  t.is(rateLimitProblem({ requestsPerSecond: 100, burst: 500 }), undefined);
  t.is(rateLimitProblem({ routes: [{ pathPrefix: "/api", requestsPerSecond: 5 }] }), undefined);
  t.regex(rateLimitProblem({}) ?? "", /limits nothing: set requestsPerSecond/);
  t.regex(rateLimitProblem({ requestsPerSecond: 0, burst: 10 }) ?? "", /burst goes with requestsPerSecond/);
  t.regex(rateLimitProblem({ requestsPerSecond: 1.5 }) ?? "", /whole number from 0 to 1000000, got 1.5/);
  t.regex(rateLimitProblem({ requestsPerSecond: 2_000_000 }) ?? "", /got 2000000/);
});

test("a route names one path, a valid method, and may exempt its requests with 0", (t) => {
  const problem = (route: object) => rateLimitProblem({ requestsPerSecond: 10, routes: [route as never] });
  t.is(problem({ pathExact: "/healthz", requestsPerSecond: 0 }), undefined, "0: not limited");
  t.is(problem({ pathPrefix: "/api/v1", method: "POST", requestsPerSecond: 3, burst: 6 }), undefined);
  t.regex(
    problem({ requestsPerSecond: 3 }) ?? "",
    /routes\[0\]: set exactly one of pathPrefix and pathExact/,
  );
  t.regex(
    problem({ pathPrefix: "/a", pathExact: "/a", requestsPerSecond: 3 }) ?? "",
    /exactly one of pathPrefix and pathExact/,
  );
  t.regex(problem({ pathPrefix: "api", requestsPerSecond: 3 }) ?? "", /must start with "\/"/);
  t.regex(problem({ pathPrefix: "/a?b=1", requestsPerSecond: 3 }) ?? "", /no query/);
  t.regex(problem({ pathPrefix: "/a", method: "get", requestsPerSecond: 3 }) ?? "", /upper-case HTTP method/);
  t.regex(
    problem({ pathExact: "/a", requestsPerSecond: 0, burst: 4 }) ?? "",
    /a route with 0 is not limited/,
  );
  const many = Array.from({ length: 65 }, (_, i) => ({ pathExact: `/p${i}`, requestsPerSecond: 1 }));
  t.regex(rateLimitProblem({ routes: many }) ?? "", /at most 64 routes, got 65/);
});

test("the first route that fits takes a request; the rest go to the instance's bucket", (t) => {
  const routes = [
    { pathExact: "/healthz", requestsPerSecond: 0 },
    { pathPrefix: "/api/orders", method: "POST", requestsPerSecond: 2 },
    { pathPrefix: "/api", requestsPerSecond: 50 },
  ];
  t.is(matchingRoute(routes, "GET", "/healthz"), 0);
  t.is(matchingRoute(routes, "GET", "/healthz/ready"), -1, "an exact path is exact");
  t.is(matchingRoute(routes, "POST", "/api/orders/7"), 1);
  t.is(matchingRoute(routes, "GET", "/api/orders/7"), 2, "the method decides before the path");
  t.is(matchingRoute(routes, "GET", "/"), -1);
});
