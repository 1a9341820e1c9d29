// `weft traces`, `weft trace ID` and `weft mesh-logs [-f]` as a user runs them: the real CLI process
// against a real control plane holding spans and log lines.
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import test from "ava";
import { packageRoot } from "../cli/index";
import type { SpanRecord } from "../control-plane/src/telemetry/index";
import { eventually, startTelemetryPlane } from "./telemetry-support";

const run = promisify(execFile);
const WEFT = ["--import", "tsx", join(packageRoot(), "cli", "main.ts")];
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARTIAL = "5cf92f3577b34da6a3ce929d0e0e4737";
/** One base for every span: Date.now() per span moved an offset by a millisecond when the clock
 * ticked between two of them, and the waterfall's "+10.0ms" read "+11.0ms". */
const TRACE_START_MS = Date.now() - 5000;

function span(
  spanId: string,
  parent: string,
  service: string,
  name: string,
  offsetMs: number,
  ms: number,
  kind: number,
  status = 0,
): SpanRecord {
  return {
    traceId: TRACE,
    spanId,
    parentSpanId: parent,
    name,
    kind,
    service,
    startNs: BigInt(TRACE_START_MS + offsetMs) * 1_000_000n,
    durationNs: ms * 1_000_000,
    statusCode: status,
    statusMessage: status === 2 ? "boom" : "",
    attributes: {},
    resource: {},
    events: [],
    peerService: "",
  };
}

test("weft traces lists, weft trace draws a waterfall, weft mesh-logs searches and follows", async (t) => {
  const cp = await startTelemetryPlane(t);
  cp.telemetry.store.addSpans([
    span("0000000000000001", "", "frontend", "GET /", 0, 100, 2),
    span("0000000000000002", "0000000000000001", "frontend", "GET reviews", 10, 60, 3),
    span("0000000000000003", "0000000000000002", "reviews", "GET /reviews", 15, 50, 2, 2),
    // Another trace, of which only a span whose parent never came is stored.
    {
      ...span("00000000000000a1", "00000000000000ff", "reviews", "GET /late", 200, 5, 2, 2),
      traceId: PARTIAL,
    },
  ]);
  const flags = ["--control-plane", cp.http];

  // Independent invocations run side by side: each CLI start costs seconds on a busy machine.
  const [list, jsonOut, empty, bad, waterfallOut] = await Promise.all([
    run(process.execPath, [...WEFT, "traces", ...flags]),
    run(process.execPath, [...WEFT, "traces", "--service", "reviews", "--json", ...flags]),
    run(process.execPath, [...WEFT, "traces", "--status", "ok", ...flags]),
    run(process.execPath, [...WEFT, "traces", "--limit", "0", ...flags]).catch((e: { stderr: string }) => e),
    run(process.execPath, [...WEFT, "trace", TRACE, "--width", "20", ...flags]),
  ]);
  t.regex(list.stdout, /^TRACE-ID\s+ROOT\s+DURATION\s+SPANS\s+ERRORS\s+SERVICES\s+AGE/);
  t.regex(list.stdout, new RegExp(`${TRACE}\\s+frontend: GET /\\s+100.0ms\\s+3\\s+1\\s+frontend,reviews`));
  t.regex(list.stdout, new RegExp(`${PARTIAL}\\s+reviews: GET /late \\(partial\\)\\s+5.00ms`));
  t.deepEqual(
    (JSON.parse(jsonOut.stdout) as Array<{ traceId: string; partial: boolean }>).map((x) => [
      x.traceId,
      x.partial,
    ]),
    [
      [PARTIAL, true],
      [TRACE, false],
    ],
  );
  // As 'weft get' and kubectl: nothing on stdout, the reason on stderr.
  t.is(empty.stdout, "");
  t.is(empty.stderr, "No traces found in the last 1h that match.\n");
  t.regex((bad as { stderr: string }).stderr, /limit must be a whole number/);

  const waterfall = waterfallOut.stdout;
  t.regex(waterfall, new RegExp(`^trace ${TRACE} {2}100.0ms {2}3 spans {2}2 services {2}1 errors`));
  t.regex(waterfall, /\+0\.00ms\s+100\.0ms\s+\|#{20}\| {2}frontend: GET \/ \(server\)/);
  t.regex(waterfall, /\+10\.0ms\s+60\.0ms\s+\| {2}#{12} {6}\| {4}frontend: GET reviews \(client\)/);
  t.regex(waterfall, /\+15\.0ms\s+50\.0ms\s+\| {3}!{10} {7}\| {6}reviews: GET \/reviews \(server\) ERROR/);

  cp.telemetry.store.addLogs([
    {
      timeNs: BigInt(Date.now()) * 1_000_000n,
      service: "reviews",
      container: "reviews-1",
      instance: "n1",
      level: "error",
      source: "stderr",
      message: "lookup failed",
      traceId: TRACE,
      spanId: "",
      attributes: {},
    },
  ]);
  const logs = await run(process.execPath, [
    ...WEFT,
    "mesh-logs",
    "--service",
    "reviews",
    "-q",
    "lookup",
    ...flags,
  ]);
  t.regex(logs.stdout, /^\S+Z reviews\/reviews-1 ERROR lookup failed\n$/);
  const none = await run(process.execPath, [...WEFT, "mesh-logs", "-q", "nosuchword", ...flags]);
  t.is(none.stdout, "");
  t.is(none.stderr, "No log lines found in the last 1h that match.\n");
  // `weft logs --service` is the same query, for a user who reaches for the container verb.
  const viaLogs = await run(process.execPath, [
    ...WEFT,
    "logs",
    "--service",
    "reviews",
    "-q",
    "lookup",
    ...flags,
  ]);
  t.is(viaLogs.stdout, logs.stdout);

  // -f prints the history, then lines as they arrive, until interrupted.
  const child = spawn(process.execPath, [...WEFT, "mesh-logs", "--service", "reviews", "-f", ...flags]);
  t.teardown(() => {
    child.kill("SIGKILL");
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  await eventually(async () => (out.includes("lookup failed") ? true : undefined), "the history line");
  cp.telemetry.store.addLogs([
    {
      timeNs: BigInt(Date.now()) * 1_000_000n,
      service: "reviews",
      container: "reviews-2",
      instance: "n2",
      level: "info",
      source: "stdout",
      message: "recovered",
      traceId: "",
      spanId: "",
      attributes: {},
    },
  ]);
  await eventually(
    async () => (out.includes("reviews/reviews-2 INFO  recovered") ? true : undefined),
    "the live line",
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGINT");
  t.is(await exited, 0);
});

test("weft endpoints shows what each replica served, from its sidecar's spans; weft services, the service's total", async (t) => {
  const cp = await startTelemetryPlane(t);
  for (const id of ["reviews-1", "reviews-2"]) {
    const res = await fetch(`${cp.http}/v1/agent/service/register`, {
      method: "PUT",
      body: JSON.stringify({ Name: "reviews", ID: id, Address: "10.250.0.9", Port: 9080 }),
    });
    t.is(res.status, 200, await res.text());
  }
  // reviews-1's sidecar served four requests, one failed; reviews-2 served none. They started just
  // now: the command counts the last minute.
  const now = BigInt(Date.now()) * 1_000_000n;
  cp.telemetry.store.addSpans(
    [2, 4, 6, 8].map((ms, i) => ({
      ...span(`00000000000000b${i}`, "", "reviews", "GET /reviews", i, ms, 2, i === 0 ? 2 : 0),
      startNs: now - BigInt(1000 - i) * 1_000_000n,
      traceId: `${i}`.repeat(32),
      resource: { "service.instance.id": "reviews-1.abc", "weft.workload": "reviews-1" },
    })),
  );
  const flags = ["--control-plane", cp.http];
  const [table, json] = await Promise.all([
    run(process.execPath, [...WEFT, "endpoints", "reviews", ...flags]),
    run(process.execPath, [...WEFT, "endpoints", "reviews", "--json", ...flags]),
  ]);
  t.regex(table.stdout, /\s+RPS\s+ERRORS\s+P50\s+P99\n/);
  t.regex(table.stdout, /reviews-1\s+\S+\s+\S+\s+\d+\.\d\d\s+25\.0%\s+4\.00ms\s+8\.00ms\n/, table.stdout);
  t.regex(table.stdout, /reviews-2\s+\S+\s+\S+\s+-\s+-\s+-\s+-\n/, table.stdout);
  const rows = JSON.parse(json.stdout) as Array<{ id: string; served: { requests: number } | null }>;
  t.deepEqual(rows.map((r) => [r.id, r.served?.requests ?? null]).sort(), [
    ["reviews-1", 4],
    ["reviews-2", null],
  ]);
  // weft services: the service's numbers, all replicas together.
  const services = await run(process.execPath, [...WEFT, "services", ...flags]);
  t.regex(services.stdout, /\s+ORIGIN\s+RPS\s+ERRORS\s+P50\s+P99\n/);
  t.regex(
    services.stdout,
    /^reviews\s+\S+\s+9080\S*\s+2\/2\s+\S+\s+\d+\.\d\d\s+25\.0%\s+4\.00ms\s+8\.00ms$/m,
    services.stdout,
  );
});
