// The dashboard in headless Chromium against a real control plane: services registered through the
// Consul agent API, spans from two services' OpenTelemetry SDKs over OTLP/HTTP, log lines carrying
// their trace ids. The pages must show that data, and clicks must move between services, the
// graph, one trace's waterfall and its logs. Screenshots land in test-artifacts/dashboard/.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import test from "ava";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { packageRoot } from "../cli/index";
import { freePort, startControlPlaneProcess } from "./support/control-plane";

const CHROMIUM = "/usr/bin/chromium";
const artifacts = join(packageRoot(), "test-artifacts", "dashboard");

async function registerService(
  httpUrl: string,
  name: string,
  port: number,
  address: string,
  meta: Record<string, string> = {},
): Promise<void> {
  const res = await fetch(`${httpUrl}/v1/agent/service/register`, {
    method: "PUT",
    body: JSON.stringify({ Name: name, ID: `${name}-1`, Address: address, Port: port, Meta: meta }),
  });
  if (!res.ok) throw new Error(`register ${name}: ${res.status} ${await res.text()}`);
}

/** frontend (server) -> frontend (client) -> checkout (server), some failing; returns the trace ids. */
async function sendTraces(otlpHttpPort: number, n: number): Promise<{ ok: string; failed: string }> {
  // checkout's spans come from one replica's sidecar, which names its workload (the agent's ID).
  const provider = (service: string, workload?: string) =>
    new BasicTracerProvider({
      resource: resourceFromAttributes({
        "service.name": service,
        ...(workload ? { "weft.workload": workload } : {}),
      }),
      spanProcessors: [
        new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${otlpHttpPort}/v1/traces` })),
      ],
    });
  const frontend = provider("frontend");
  const checkout = provider("checkout", "checkout-1");
  const ids = { ok: "", failed: "" };
  for (let i = 0; i < n; i++) {
    const fail = i % 4 === 3;
    const root = frontend.getTracer("test").startSpan("GET /buy", {
      kind: SpanKind.SERVER,
      attributes: {
        "http.request.method": "GET",
        "url.path": "/buy",
        "http.response.status_code": fail ? 502 : 200,
      },
    });
    const rootCtx = trace.setSpan(context.active(), root);
    const call = frontend
      .getTracer("test")
      .startSpan(
        "GET checkout",
        { kind: SpanKind.CLIENT, attributes: { "peer.service": "checkout", "server.address": "checkout" } },
        rootCtx,
      );
    const server = checkout.getTracer("test").startSpan(
      "GET /pay",
      {
        kind: SpanKind.SERVER,
        attributes: { "http.response.status_code": fail ? 503 : 200, "weft.route": "default" },
      },
      trace.setSpan(context.active(), call),
    );
    if (fail) {
      server.setStatus({ code: SpanStatusCode.ERROR, message: "payment backend unavailable" });
      call.setStatus({ code: SpanStatusCode.ERROR });
      root.setStatus({ code: SpanStatusCode.ERROR });
    }
    server.end();
    call.end();
    root.end();
    if (fail) ids.failed = root.spanContext().traceId;
    else ids.ok = root.spanContext().traceId;
  }
  await Promise.all([frontend.forceFlush(), checkout.forceFlush()]);
  await Promise.all([frontend.shutdown(), checkout.shutdown()]);
  return ids;
}

/** A span of "refunds" whose caller's span never arrives (a caller that does not trace). */
async function sendPartialTrace(otlpHttpPort: number): Promise<string> {
  const refunds = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "refunds" }),
    spanProcessors: [
      new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${otlpHttpPort}/v1/traces` })),
    ],
  });
  const traceId = "7a11c0de7a11c0de7a11c0de7a11c0de";
  const caller = trace.setSpanContext(context.active(), {
    traceId,
    spanId: "cafecafecafecafe",
    traceFlags: 1,
    isRemote: true,
  });
  refunds.getTracer("test").startSpan("GET /refund", { kind: SpanKind.SERVER }, caller).end();
  await refunds.forceFlush();
  await refunds.shutdown();
  return traceId;
}

async function sendLog(
  otlpHttpPort: number,
  service: string,
  message: string,
  traceId: string,
  severity: string,
  container?: string,
) {
  const body = {
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: "service.name", value: { stringValue: service } },
            ...(container ? [{ key: "container.name", value: { stringValue: container } }] : []),
          ],
        },
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                severityText: severity,
                body: { stringValue: message },
                traceId,
              },
            ],
          },
        ],
      },
    ],
  };
  const res = await fetch(`http://127.0.0.1:${otlpHttpPort}/v1/logs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`OTLP logs: ${res.status} ${await res.text()}`);
}

async function text(l: Locator): Promise<string> {
  return (await l.textContent()) ?? "";
}

/** The page routes by its URL's hash (no DOM types in this project's TypeScript config). */
/** POST /api/v1/config/apply, as `weft apply` does. */
function applyConfig(url: string, docs: object[]): Promise<Response> {
  return fetch(`${url}/api/v1/config/apply`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(docs),
  });
}

async function waitForHash(page: Page, hash: string): Promise<void> {
  await page.waitForFunction(`location.hash === ${JSON.stringify(hash)}`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

test("the dashboard shows services, the graph, traces and logs, and clicks move between them", async (t) => {
  mkdirSync(artifacts, { recursive: true });
  const [grpcOtlp, httpOtlp] = [await freePort(), await freePort()];
  const cp = await startControlPlaneProcess({
    args: ["--otlp-grpc-port", String(grpcOtlp), "--otlp-http-port", String(httpOtlp)],
  });
  t.teardown(() => cp.close());
  await registerService(cp.httpUrl, "frontend", 8080, "10.250.0.2");
  await registerService(cp.httpUrl, "checkout", 9090, "10.250.0.3", { version: "v1" });
  // checkout's traffic config: a canary Route (v2 has no replica yet) and round robin.
  const applied = await applyConfig(cp.httpUrl, [
    {
      apiVersion: "weft.dev/v1",
      kind: "Route",
      metadata: { name: "canary" },
      spec: {
        service: "checkout",
        rules: [
          {
            match: { pathPrefix: "/pay" },
            split: [
              { labels: { version: "v1" }, weight: 90 },
              { labels: { version: "v2" }, weight: 10 },
            ],
            timeoutMs: 2000,
            retries: { attempts: 2, retryOnStatus: [503] },
            headers: { request: { set: { "x-tenant": "blue" } }, response: { remove: ["server"] } },
            rewrite: { pathPrefix: "/v1/pay", authority: "payments.internal" },
            mirror: { labels: { version: "v2" }, ratio: 0.5 },
          },
        ],
      },
    },
    {
      apiVersion: "weft.dev/v1",
      kind: "ResiliencePolicy",
      metadata: { name: "checkout" },
      spec: { service: "checkout", loadBalancer: "round_robin" },
    },
  ]);
  t.is(applied.status, 200, await applied.text());
  const ids = await sendTraces(httpOtlp, 12);
  const partial = await sendPartialTrace(httpOtlp);
  await sendLog(
    httpOtlp,
    "checkout",
    "payment backend unavailable: connection reset",
    ids.failed,
    "ERROR",
    "checkout-1",
  );
  await sendLog(httpOtlp, "frontend", "order placed for cart 42", ids.ok, "INFO");
  // A health probe's line: it names its (unsampled) trace, of which no span is ever stored.
  await sendLog(httpOtlp, "frontend", "GET /healthz 200 weft-probe", "ab".repeat(16), "INFO");

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));

  // Services: both, with the rate and error share computed from the spans.
  await page.goto(cp.httpUrl);
  const frontendRow = page.locator('tr[data-row="frontend"]');
  await frontendRow.waitFor();
  t.regex((await text(frontendRow)).replace(/\s+/g, " "), /1\/1 healthy/);
  const checkoutRow = page.locator('tr[data-row="checkout"]');
  t.regex(await text(checkoutRow), /\d+(\.\d+)?\/s/);
  t.regex(await text(checkoutRow), /25\.0%/, "3 of 12 checkout requests failed");
  await shot(page, "services");

  // Graph: the edge frontend -> checkout; clicking a node opens the service.
  await page.click('nav a[data-nav="graph"]');
  await page.locator('g[data-edge="frontend->checkout"]').waitFor();
  await shot(page, "graph");
  await page.click('g[data-node="checkout"]');
  await waitForHash(page, "#/services/checkout");
  await page.getByText("Callers").waitFor();
  t.regex(await text(page.locator("main")), /frontend/);
  // Its endpoint's row: the requests that replica served, and their errors.
  const endpointRow = (await text(page.locator('tr[data-row="checkout-1"]'))).replace(/\s+/g, " ");
  t.regex(endpointRow, /healthy\s*\d+\.\d+\/s\s*25\.0%/, "the replica served all 12, 3 failed");
  // Its traffic config: the Route's rule with its shares, the subset no replica has marked.
  const ruleRow = (await text(page.locator('tr[data-row="canary/0"]'))).replace(/\s+/g, " ");
  t.regex(ruleRow, /canary\s*path \/pay\*\s*\{version=v1\} 90%/, ruleRow);
  t.regex(
    ruleRow,
    /2000 ms\s*2 on 503\s*–\s*request: x-tenant=blue; response: -server\s*prefix → \/v1\/pay · host payments\.internal · mirror to \{version=v2\} \(50%\)/,
    ruleRow,
  );
  t.is(await text(page.locator('[data-testid="subset-empty"]')), "{version=v2} 10% (no endpoint)");
  t.regex(
    await text(page.locator('[data-testid="policy-line"]')),
    /round robin \(ResiliencePolicy "checkout"\)/,
  );
  await shot(page, "service-checkout");
  // A consistent hash in place of round robin: the line says what each request is hashed by, and
  // that the sidecar gives a client without the cookie one.
  const rehashed = await applyConfig(cp.httpUrl, [
    {
      apiVersion: "weft.dev/v1",
      kind: "ResiliencePolicy",
      metadata: { name: "checkout" },
      spec: {
        service: "checkout",
        consistentHash: { httpCookieName: "session", generateCookie: { ttlSeconds: 3600 } },
        rateLimit: {
          requestsPerSecond: 50,
          burst: 100,
          routes: [{ pathPrefix: "/pay", method: "POST", requestsPerSecond: 5 }],
        },
      },
    },
  ]);
  t.is(rehashed.status, 200, await rehashed.text());
  await page.reload();
  await page
    .getByText(
      'consistent hash on cookie session, set when missing (for 3600 s, path /) (ResiliencePolicy "checkout")',
    )
    .waitFor();
  t.regex(
    await text(page.locator('[data-testid="policy-line"]')),
    /rate limit 50\/s \(burst 100\) per instance, POST \/pay\*: 5\/s/,
  );
  // Its security: the identity and mesh-default mutual TLS, then who its AuthorizationPolicy lets in.
  t.regex(
    await text(page.locator('[data-testid="security-line"]')),
    /Identity spiffe:\/\/weft\.local\/ns\/default\/svc\/checkout · mutual TLS PERMISSIVE \(mesh default\)/,
  );
  t.is(
    await text(page.locator(".empty").filter({ hasText: "AuthorizationPolicy" })),
    "No AuthorizationPolicy: any caller may call it.",
  );
  const authorized = await applyConfig(cp.httpUrl, [
    {
      apiVersion: "weft.dev/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "checkout-callers" },
      spec: {
        service: "checkout",
        rules: [{ action: "ALLOW", from: ["frontend"], methods: ["POST"], pathPrefix: "/pay" }],
      },
    },
  ]);
  t.is(authorized.status, 200, await authorized.text());
  await page.reload();
  const authzRow = (await text(page.locator('tr[data-row="rule-0"]'))).replace(/\s+/g, " ");
  t.regex(authzRow, /ALLOW\s*frontend\s*POST \/pay\*/, authzRow);
  t.regex((await text(page.locator('tr[data-row="default"]'))).replace(/\s+/g, " "), /DENY\s*anyone else/);
  // Its workload opens that container's logs, and the filter stays in the form.
  await page.click('tr[data-row="checkout-1"] [data-testid="endpoint-logs"]');
  await waitForHash(page, "#/logs?container=checkout-1");
  await page.getByText("connection reset").waitFor();
  t.notRegex(await text(page.locator("main")), /order placed/, "frontend's line is another container's");
  t.is(await page.locator('input[name="container"]').inputValue(), "checkout-1");

  // Traces: one whose root span's caller is missing is marked partial, and only that one.
  await page.goto(`${cp.httpUrl}/#/traces`);
  await page.locator(`tr[data-row="${partial}"] .pill`).waitFor();
  t.regex(await text(page.locator(`tr[data-row="${partial}"]`)), /refunds: GET \/refund\s*partial/);
  t.is(await page.locator("tbody tr").count(), 13);
  t.is(await page.locator("tbody tr .pill").count(), 1, "complete traces carry no mark");

  // Traces: the failed ones by status, then one trace's waterfall with both services' spans.
  await page.goto(`${cp.httpUrl}/#/traces?status=error&service=frontend`);
  // The filtered view, not the unfiltered one still on screen (it holds the failed row too).
  await page.locator('body[data-rendered="#/traces?status=error&service=frontend"] form.filters').waitFor();
  const failedRow = page.locator(`tr[data-row="${ids.failed}"]`);
  await failedRow.waitFor();
  t.is(await page.locator("tbody tr").count(), 3, "three failed traces");
  await shot(page, "traces");
  await failedRow.click();
  await waitForHash(page, `#/traces/${ids.failed}`);
  await page.locator("table.waterfall tbody tr").nth(2).waitFor();
  t.is(await page.locator("table.waterfall tbody tr").count(), 3);
  await page.locator("table.waterfall tbody tr").nth(2).click();
  const detail = page.locator('[data-testid="span-detail"]');
  t.regex(await text(detail), /checkout: GET \/pay/);
  t.regex(await text(detail), /payment backend unavailable/);
  t.regex(await text(detail), /weft\.route\s*default/);
  await shot(page, "trace");

  // From the trace to its logs, and from a log line back to its trace.
  await page.click('[data-testid="trace-logs"]');
  await page.getByText("connection reset").waitFor();
  t.notRegex(await text(page.locator("main")), /order placed/, "only the trace's own lines");
  await shot(page, "logs");
  await page.click('[data-testid="log-trace"]');
  await waitForHash(page, `#/traces/${ids.failed}`);

  // Text search over every service's logs.
  await page.goto(`${cp.httpUrl}/#/logs?q=cart`);
  await page.locator('input[name="q"][value="cart"]').waitFor();
  await page.getByText("order placed for cart 42").waitFor();
  t.notRegex(await text(page.locator("main")), /connection reset/);

  // A line whose trace has no stored span shows the id without a link to a page that would 404.
  await page.goto(`${cp.httpUrl}/#/logs?q=healthz`);
  await page.getByText("GET /healthz 200 weft-probe").waitFor();
  t.is(await page.locator('[data-testid="log-trace"]').count(), 0);
  t.regex(await text(page.locator('[data-testid="log-trace-unstored"]')), /^abababab/);

  // Sidecars page renders (no sidecar is connected in this test).
  await page.click('nav a[data-nav="proxies"]');
  await page.getByText("No sidecars connected.").waitFor();
  t.deepEqual(pageErrors, []);
});

test("the dashboard's files carry a content security policy; unknown paths stay API 404s", async (t) => {
  const cp = await startControlPlaneProcess();
  t.teardown(() => cp.close());
  const page = await fetch(cp.httpUrl);
  t.is(page.status, 200);
  t.regex(page.headers.get("content-type") ?? "", /text\/html/);
  t.regex(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
  t.regex(await page.text(), /<script src="\/ui\/app.js">/);
  const js = await fetch(`${cp.httpUrl}/ui/app.js`);
  t.regex(js.headers.get("content-type") ?? "", /javascript/);
  const missing = await fetch(`${cp.httpUrl}/ui/nope.js`);
  t.is(missing.status, 404);
  t.regex(((await missing.json()) as { error: string }).error, /no route/);
});
