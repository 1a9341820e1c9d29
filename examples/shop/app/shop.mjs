// The shop example: one small program playing each of the shop's services, so the mesh has
// something real to carry, trace and log. Node built-ins only (the image holds node and this file).
//
//   node shop.mjs frontend   GET / fans out to catalog and reviews in parallel
//   node shop.mjs catalog    GET /products: fast
//   node shop.mjs reviews    GET /reviews: slow (50-400 ms of "work"), then asks ratings
//   node shop.mjs ratings    GET /ratings: fails with 503 for FAIL_RATE of requests (default 0.1)
//   node shop.mjs loadgen    calls frontend RATE times a second (default 5) and prints a summary
//
// Every service forwards the trace headers it received (W3C traceparent/tracestate, B3, baggage and
// x-request-id) on the calls it makes: the mesh's sidecars make the spans, but only the app knows
// which incoming request an outgoing call belongs to, as every mesh requires of apps.
import { createServer, request as httpRequest } from "node:http";

const role = process.argv[2] ?? process.env.ROLE;
const port = Number(process.env.PORT ?? 8080);
const upstream = (name) => process.env[`${name.toUpperCase()}_URL`] ?? `http://${name}:8080`;
const FORWARDED = [
  "traceparent",
  "tracestate",
  "baggage",
  "b3",
  "x-b3-traceid",
  "x-b3-spanid",
  "x-b3-parentspanid",
  "x-b3-sampled",
  "x-b3-flags",
  "x-request-id",
];

function traceIdOf(headers) {
  const tp = /^[\da-f]{2}-([\da-f]{32})-/.exec(headers.traceparent ?? "");
  return tp ? tp[1] : (headers["x-b3-traceid"] ?? (headers.b3 ?? "").split("-")[0] ?? "");
}

function log(level, message, headers = {}) {
  const trace = traceIdOf(headers);
  process.stdout.write(
    `${new Date().toISOString()} ${level} ${role}: ${message}${trace ? ` trace_id=${trace}` : ""}\n`,
  );
}

/** GET url with the incoming request's trace headers; resolves {status, body} or rejects. */
function call(url, incoming, timeoutMs = 5000) {
  const headers = {};
  for (const h of FORWARDED) if (incoming[h] !== undefined) headers[h] = incoming[h];
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${url} did not answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const handlers = {
  async frontend(req) {
    if (req.url !== "/" && !req.url.startsWith("/?")) return { status: 404, body: { error: "try GET /" } };
    const [catalog, reviews] = await Promise.allSettled([
      call(`${upstream("catalog")}/products`, req.headers),
      call(`${upstream("reviews")}/reviews`, req.headers),
    ]);
    if (catalog.status === "rejected" || catalog.value.status !== 200) {
      const why = catalog.status === "rejected" ? catalog.reason.message : `status ${catalog.value.status}`;
      log("error", `catalog failed: ${why}`, req.headers);
      return { status: 502, body: { error: `catalog failed: ${why}` } };
    }
    const products = JSON.parse(catalog.value.body).products;
    // Reviews are optional: the page degrades instead of failing, as a real shop would.
    const ok = reviews.status === "fulfilled" && reviews.value.status === 200;
    if (!ok) log("warn", "reviews unavailable, serving the page without them", req.headers);
    return { status: 200, body: { products, reviews: ok ? JSON.parse(reviews.value.body).reviews : null } };
  },
  async catalog(req) {
    if (req.url !== "/products") return { status: 404, body: { error: "try GET /products" } };
    return {
      status: 200,
      body: {
        products: [
          { id: 1, name: "loom", price: 120 },
          { id: 2, name: "shuttle", price: 15 },
          { id: 3, name: "yarn", price: 4 },
        ],
      },
    };
  },
  async reviews(req) {
    if (req.url !== "/reviews") return { status: 404, body: { error: "try GET /reviews" } };
    await sleep(50 + Math.random() * 350);
    const ratings = await call(`${upstream("ratings")}/ratings`, req.headers).catch((err) => ({
      status: 0,
      body: err.message,
    }));
    if (ratings.status !== 200) {
      log("error", `ratings failed: ${ratings.status || ratings.body}`, req.headers);
      return { status: 503, body: { error: "ratings unavailable" } };
    }
    const stars = JSON.parse(ratings.body).stars;
    return { status: 200, body: { reviews: [{ product: 1, text: "sturdy", stars: stars[1] }] } };
  },
  async ratings(req) {
    if (req.url !== "/ratings") return { status: 404, body: { error: "try GET /ratings" } };
    const failRate = Number(process.env.FAIL_RATE ?? 0.1);
    if (Math.random() < failRate) {
      log("error", "ratings store timed out (injected failure)", req.headers);
      return { status: 503, body: { error: "ratings store timed out" } };
    }
    return { status: 200, body: { stars: { 1: 5, 2: 4, 3: 3 } } };
  },
};

function serve() {
  const handler = handlers[role];
  const server = createServer((req, res) => {
    const started = Date.now();
    handler(req)
      .catch((err) => ({ status: 500, body: { error: err.message } }))
      .then(({ status, body }) => {
        log(
          status >= 500 ? "error" : "info",
          `${req.method} ${req.url} ${status} ${Date.now() - started}ms`,
          req.headers,
        );
        res.writeHead(status, { "content-type": "application/json" });
        res.end(`${JSON.stringify(body)}\n`);
      });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(port, () => log("info", `listening on :${port}`));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}

async function loadgen() {
  const rate = Number(process.env.RATE ?? 5);
  const target = `${upstream("frontend")}/`;
  let sent = 0;
  let failed = 0;
  let stopped = false;
  process.on("SIGTERM", () => {
    stopped = true;
  });
  setInterval(() => {
    log("info", `sent ${sent} requests to ${target}, ${failed} failed`);
  }, 10_000).unref();
  while (!stopped) {
    const tick = Date.now();
    sent++;
    call(target, {}).then(
      (r) => {
        if (r.status !== 200) failed++;
      },
      () => failed++,
    );
    await sleep(Math.max(0, 1000 / rate - (Date.now() - tick)));
  }
  process.exit(0);
}

if (role === "loadgen") loadgen();
else if (handlers[role]) serve();
else {
  process.stderr.write(`usage: node shop.mjs frontend|catalog|reviews|ratings|loadgen (got ${role})\n`);
  process.exit(2);
}
