// The shop example on a real mesh, as the README's demo runs it: built offline, brought up with
// `weft up`, every service behind its sidecar. One user request must be one trace across every hop
// (the services forward the trace headers they receive, the sidecars make the spans), and the
// dashboard, in headless Chromium, must show the services, the graph and that trace.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { chromium } from "playwright-core";
import { packageRoot } from "../cli/index";
import { type Mesh, startMesh } from "./support/mesh";
import { waitFor } from "./support/processes";

let mesh: Mesh;
const artifacts = join(packageRoot(), "test-artifacts", "shop");

/** The example's manifest without the published host port (tests run side by side with a demo). */
const MANIFEST = `name: shopt
services:
  frontend: { image: shop, command: [frontend], ports: ["8080/http"], depends_on: [catalog, reviews] }
  catalog: { image: shop, command: [catalog], ports: ["8080/http"], replicas: 2 }
  reviews: { image: shop, command: [reviews], ports: ["8080/http"], depends_on: [ratings] }
  ratings:
    image: shop
    command: [ratings]
    ports: ["8080/http"]
    environment: { FAIL_RATE: "0" }
    healthcheck: { test: { http: "8080/ratings" }, interval: 1s, timeout: 2s, retries: 3 }
`;

test.before(async () => {
  mesh = await startMesh();
  await mesh.weftOk(["image", "build", "-f", join(packageRoot(), "examples", "shop", "image.yaml")], 300_000);
  const file = join(mesh.dir, "weft.yaml");
  writeFileSync(file, MANIFEST);
  await mesh.weftOk(["up", "-d", "-f", file], 300_000);
});

test.after.always(async () => {
  await mesh?.close();
});

interface Span {
  spanId: string;
  parentSpanId: string;
  kind: string;
  service: string;
  name: string;
}

test("one user request is one trace across every hop, and the dashboard shows it", async (t) => {
  const ps = JSON.parse(await mesh.weftOk(["ps", "--json"])) as Array<{ name: string; address: string }>;
  const frontend = ps.find((c) => c.name === "shopt-frontend-1");
  t.truthy(frontend, JSON.stringify(ps));
  const traceId = "6e0c63257de34c926f9efcd03899e3ab";
  // The sidecars load their telemetry just after start: warm up until frontend's spans arrive.
  await waitFor(
    "frontend's first spans",
    async () => {
      await fetch(`http://${frontend!.address}:8080/`).catch(() => undefined);
      const got = (await (await fetch(`${mesh.httpUrl}/api/v1/traces?service=ratings&limit=1`)).json()) as {
        traces: unknown[];
      };
      return got.traces.length > 0 ? true : undefined;
    },
    90_000,
    1000,
  );
  // One user request, from the host through frontend's sidecar; the services do the rest.
  const res = await fetch(`http://${frontend!.address}:8080/`, {
    headers: { traceparent: `00-${traceId}-aaaaaaaaaaaaaaaa-01` },
  });
  t.is(res.status, 200);
  // frontend: server + 2 clients; catalog: server; reviews: server + client; ratings: server.
  let spans: Span[] = [];
  await waitFor(
    "the whole trace",
    async () => {
      const got = (await (await fetch(`${mesh.httpUrl}/api/v1/traces/${traceId}`)).json()) as {
        spans?: Span[];
      };
      spans = got.spans ?? [];
      return spans.length >= 7 ? true : undefined;
    },
    30_000,
    500,
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(spans.map((s) => [s.service, s.kind, s.name]))}`);
  });
  t.is(spans.length, 7, JSON.stringify(spans.map((s) => [s.service, s.kind, s.name])));
  // Every span but the first hop's has its parent in the same trace: nothing broke the chain.
  const ids = new Set(spans.map((s) => s.spanId));
  const orphans = spans.filter((s) => !ids.has(s.parentSpanId));
  t.deepEqual(
    orphans.map((s) => s.parentSpanId),
    spans.filter((s) => s.parentSpanId === "aaaaaaaaaaaaaaaa").map(() => "aaaaaaaaaaaaaaaa"),
    "only spans of the first hop point outside the trace (at the caller's span)",
  );
  const server = (service: string) => spans.find((s) => s.service === service && s.kind === "server");
  const client = (from: string, path: string) =>
    spans.find((s) => s.service === from && s.kind === "client" && s.name.endsWith(path));
  t.is(server("ratings")?.parentSpanId, client("reviews", "/ratings")?.spanId, "reviews -> ratings");
  t.is(server("reviews")?.parentSpanId, client("frontend", "/reviews")?.spanId, "frontend -> reviews");
  t.is(server("catalog")?.parentSpanId, client("frontend", "/products")?.spanId, "frontend -> catalog");

  // What each catalog replica served, told apart by the workload its sidecar names: the registry's
  // endpoint workloads, as the dashboard and `weft endpoints` join them.
  const endpoints = (await (
    await fetch(`${mesh.httpUrl}/api/v1/services/catalog/endpoints`)
  ).json()) as Array<{
    workload: string;
  }>;
  const served = (await (await fetch(`${mesh.httpUrl}/api/v1/services/catalog/instances`)).json()) as {
    instances: Array<{ instance: string; workload: string; requests: number }>;
  };
  t.true(served.instances.length >= 1, JSON.stringify(served));
  for (const i of served.instances) {
    t.true(
      endpoints.some((e) => e.workload === i.workload),
      `${i.workload} is a catalog endpoint's workload`,
    );
    t.true(i.instance.startsWith(`${i.workload}.`), i.instance);
  }
  const listed = await mesh.weftOk(["endpoints", "catalog"]);
  t.regex(listed, /shopt-catalog-\d\s.*\s\d+\.\d\d\s+\d+\.\d%\s+\S+ms\s+\S+ms\n/, listed);
  const services = await mesh.weftOk(["services"]);
  t.regex(services, /^catalog\s+.*\s2\/2\s+\S+\s+\d+\.\d\d\s+\d+\.\d%\s+\S+ms\s+\S+ms$/m, services);

  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${mesh.httpUrl}/#/graph`);
  for (const edge of ["frontend->catalog", "frontend->reviews", "reviews->ratings"]) {
    await page.locator(`g[data-edge="${edge}"]`).waitFor();
  }
  await page.screenshot({ path: join(artifacts, "graph.png") });
  await page.goto(`${mesh.httpUrl}/#/traces/${traceId}`);
  await page
    .locator("table.waterfall tbody tr")
    .nth(spans.length - 1)
    .waitFor();
  t.is(await page.locator("table.waterfall tbody tr").count(), spans.length);
  await page.screenshot({ path: join(artifacts, "trace.png") });
  await page.goto(`${mesh.httpUrl}/#/services`);
  await page.locator('tr[data-row="catalog"]').waitFor();
  t.regex((await page.locator('tr[data-row="catalog"]').textContent()) ?? "", /2\/2 healthy/);
  await page.screenshot({ path: join(artifacts, "services.png") });
  // Each sidecar's sync state and the certificate it speaks mutual TLS with, as proxy-status shows.
  await page.goto(`${mesh.httpUrl}/#/proxies`);
  const sidecar = page.locator('tr[data-row^="shopt-catalog-1."]');
  await sidecar.waitFor();
  t.regex((await sidecar.textContent()) ?? "", /in sync\s*expires in (2[0-4]h|\d+m)/);
  await page.screenshot({ path: join(artifacts, "sidecars.png") });
});

test("ps --filter and --format find a service's replicas; inspect -f reads their records", async (t) => {
  const listed = await mesh.weftOk([
    "ps",
    "--filter",
    "service=catalog",
    "--format",
    "{{.Names}} {{.State}} {{.Image}}",
  ]);
  t.deepEqual(listed.trim().split("\n").sort(), [
    "shopt-catalog-1 running shop",
    "shopt-catalog-2 running shop",
  ]);
  const ids = (await mesh.weftOk(["ps", "-q", "--filter", "label=weft.compose.service=catalog"]))
    .trim()
    .split("\n");
  t.is(ids.length, 2);
  const records = await mesh.weftOk([
    "inspect",
    "-f",
    '{{.Address}} {{index .Labels "weft.compose.replica"}}',
    ...ids,
  ]);
  t.deepEqual(
    records
      .trim()
      .split("\n")
      .map((l) => l.replace(/^\d+\.\d+\.\d+\.\d+ /, "ADDRESS "))
      .sort(),
    ["ADDRESS 1", "ADDRESS 2"],
    records,
  );
  // Every service of the app runs the shop image, under whichever of its names it is asked for
  // (the label: other tests here run containers of their own).
  const byImage = await mesh.weftOk([
    "ps",
    "-q",
    "--filter",
    "ancestor=shop:latest",
    "--filter",
    "label=weft.project=shopt",
  ]);
  t.is(byImage.trim().split("\n").length, 5, byImage);
  // stats and image ls take templates too.
  const stats = await mesh.weftOk([
    "stats",
    "--no-stream",
    "--format",
    "{{.Name}} {{.CPUPerc}} {{.PIDs}}",
    "shopt-catalog-1",
  ]);
  t.regex(stats, /^shopt-catalog-1 \d+\.\d\d% [1-9]\d*\n$/, stats);
  const images = await mesh.weftOk(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
  t.regex(images, /^shop:latest$/m, images);
});

test("top lists the app's processes (not its sidecar's), with the ps options given", async (t) => {
  const ef = await mesh.weftOk(["top", "shopt-catalog-1"]);
  t.regex(ef, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/m);
  t.regex(ef, /\/app\/shop\.mjs catalog$/m, ef);
  t.notRegex(ef, /sidecar/, "the sidecar shares the network namespace only");
  const custom = await mesh.weftOk(["top", "shopt-catalog-1", "-o", "pid,args"]);
  t.regex(custom, /^PID\s+COMMAND\n\d+\s+\S*node \/app\/shop\.mjs catalog\n/, custom);
  const stopped = await mesh.weft(["top", "nope-not-there"]);
  t.not(stopped.code, 0);
});

test("port tells where a published port is; container prune removes stopped containers only", async (t) => {
  const name = `shopt-extra-${Date.now().toString(36)}`;
  t.teardown(() => mesh.weft(["rm", "-f", name]).catch(() => undefined));
  await mesh.weftOk([
    "run",
    "-d",
    "--name",
    name,
    "-p",
    "127.0.0.1:0:8080",
    "--port",
    "8080/http",
    "shop",
    "catalog",
  ]);
  const published = (await mesh.weftOk(["port", name, "8080"])).trim();
  t.regex(published, /^127\.0\.0\.1:\d+$/);
  await waitFor("the published catalog", async () =>
    (await fetch(`http://${published}/products`).catch(() => undefined))?.status === 200 ? true : undefined,
  );
  await mesh.weftOk(["stop", "-t", "1", name]);
  const pruned = await mesh.weftOk(["container", "prune", "-f"]);
  t.regex(pruned, /^Deleted Containers:\n[0-9a-f]{64}\n$/, pruned);
  t.deepEqual((await mesh.weftOk(["ps", "-aq", "--filter", `name=${name}`])).trim(), "");
  t.is((await mesh.weftOk(["ps", "-q", "--filter", "service=catalog"])).trim().split("\n").length, 2);
});

test("the daemon's health probes reach the app through its sidecar without being traced", async (t) => {
  const inspect = async () =>
    JSON.parse(await mesh.weftOk(["inspect", "shopt-ratings-1"])) as {
      address: string;
      health?: { status: string; log: Array<{ start: string; exitCode: number }> };
    };
  const { address } = await inspect();
  // A request from outside that is traced, rooted at ratings as a probe's would be: proof that this
  // sidecar traces what it is not told otherwise.
  const traceId = "5a1e0c63257de34c926f9efcd0389900";
  const since = new Date().toISOString();
  const res = await fetch(`http://${address}:8080/ratings`, {
    headers: { traceparent: `00-${traceId}-bbbbbbbbbbbbbbbb-01` },
  });
  t.is(res.status, 200);
  // Three probes (1 s apart) pass after that request.
  const sinceMs = Date.parse(since);
  await waitFor(
    "three passing probes",
    async () => {
      const log = (await inspect()).health?.log ?? [];
      return log.filter((p) => Date.parse(p.start) > sinceMs && p.exitCode === 0).length >= 3
        ? true
        : undefined;
    },
    30_000,
    500,
  );
  // Spans leave a sidecar within about a second of ending: wait for ours, then give the probes' as long.
  const rootedAtRatings = async () => {
    const got = (await (
      await fetch(
        `${mesh.httpUrl}/api/v1/traces?service=ratings&since=${encodeURIComponent(since)}&limit=100`,
      )
    ).json()) as { traces: Array<{ traceId: string; rootService: string; partial: boolean }> };
    // A probe's trace would begin at ratings' span. The other test's requests, through frontend, show
    // ratings as their root only while partial (frontend's spans not yet in); ours has an outside parent.
    return got.traces
      .filter((x) => x.rootService === "ratings" && (!x.partial || x.traceId === traceId))
      .map((x) => x.traceId);
  };
  await waitFor(
    "the outside request's trace",
    async () => ((await rootedAtRatings()).length > 0 ? true : undefined),
    30_000,
    500,
  );
  await new Promise((r) => setTimeout(r, 3000));
  t.deepEqual(await rootedAtRatings(), [traceId], "no trace begins at a probe");
});
