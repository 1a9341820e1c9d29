// Tracing and access logs through real sidecars: an app in `front` calls `back` by name with a W3C
// traceparent; front's sidecar makes a client span, back's sidecar a server span that is its child,
// both land in the control plane over the sidecars' unix socket, and both sidecars' access-log
// lines carry the trace id. The service graph then shows the edge.
import { execSync } from "node:child_process";
import test from "ava";
import { importExampleImage, type Mesh, startMesh } from "./support/mesh";
import { waitFor } from "./support/processes";

let mesh: Mesh;

test.before(async () => {
  mesh = await startMesh();
  await importExampleImage(mesh, "hello-mesh");
  for (const name of ["back", "front"]) {
    await mesh.weftOk(
      ["run", "-d", "--name", name, "--service", name, "--port", "8080/http"].concat([
        "hello-mesh",
        "httpd",
        "-f",
        "-p",
        "8080",
        "-h",
        `/www/${name}`,
      ]),
    );
  }
});

test.after.always(async () => {
  await mesh?.close();
});

/** Every sidecar's own log, for a failure message. */
function sidecarLogs(): string {
  try {
    return execSync(`tail -n 30 $(find ${mesh.dir} -name sidecar.log)`, { encoding: "utf8" });
  } catch {
    return "(none found)";
  }
}

interface Span {
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  service: string;
  attributes: Record<string, unknown>;
}

async function api<T>(path: string): Promise<T | undefined> {
  const res = await fetch(`${mesh.httpUrl}${path}`);
  return res.ok ? ((await res.json()) as T) : undefined;
}

test("one request is one trace across both sidecars, and each sidecar logs it with the trace id", async (t) => {
  const traceId = "0af7651916cd43dd8448eb211c80319c";
  const parent = "b7ad6b7169203331";
  const call = () =>
    mesh.weftOk([
      "exec",
      "front",
      "timeout",
      "20",
      "wget",
      "-q",
      "-O",
      "-",
      "--header",
      `traceparent: 00-${traceId}-${parent}-01`,
      "http://back:8080/",
    ]);
  // The first request may load the sidecars' telemetry (it is loaded lazily): repeat until traced.
  let spans: Span[] = [];
  await waitFor(
    "spans from both sidecars",
    async () => {
      if (!/hello from back/.test(await call())) return undefined;
      spans = (await api<{ spans: Span[] }>(`/api/v1/traces/${traceId}`))?.spans ?? [];
      return (
        (spans.some((s) => s.service === "front") && spans.some((s) => s.service === "back")) || undefined
      );
    },
    60_000,
    1000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; spans ${JSON.stringify(spans)}; sidecar logs:\n${sidecarLogs()}`);
  });
  const client = spans.find((s) => s.service === "front" && s.kind === "client");
  const server = spans.find((s) => s.service === "back" && s.kind === "server");
  t.truthy(client, JSON.stringify(spans));
  t.truthy(server, JSON.stringify(spans));
  t.is(client!.parentSpanId, parent, "the client span continues the app's trace");
  t.is(
    spans.find((s) => s.service === "back" && s.parentSpanId === client!.spanId)?.kind,
    "server",
    "back's span is the child of front's",
  );
  t.is(server!.attributes["http.response.status_code"], 200);
  t.is(client!.attributes["peer.service"], "back");

  // Access logs from both sidecars, found by the trace id.
  let logs: Array<{ service: string; source: string; message: string }> = [];
  await waitFor(
    "access-log lines of both sidecars",
    async () => {
      logs = (await api<{ logs: typeof logs }>(`/api/v1/logs?traceId=${traceId}`))?.logs ?? [];
      return (logs.some((l) => l.service === "front") && logs.some((l) => l.service === "back")) || undefined;
    },
    30_000,
    500,
  );
  t.true(logs.every((l) => l.source === "access"));
  t.truthy(
    logs.find((l) => l.service === "front" && /GET back:8080\/ 200/.test(l.message)),
    JSON.stringify(logs),
  );

  // The graph has the edge.
  const graph = await api<{ edges: Array<{ source: string; target: string; requests: number }> }>(
    "/api/v1/graph?since=15m",
  );
  t.truthy(graph?.edges.find((e) => e.source === "front" && e.target === "back" && e.requests > 0));
});

test("a container's stdout and stderr reach the control plane's log search, with level and trace id", async (t) => {
  const traceId = "5b8aa5a2d2c872e8321cf37308d69df2";
  await mesh.weftOk([
    "run",
    "-d",
    "--name",
    "talker",
    "--service",
    "talker",
    "hello-mesh",
    "sh",
    "-c",
    `echo "level=error payment declined trace_id=${traceId}"; echo "cache warm" >&2; sleep 600`,
  ]);
  t.teardown(() => mesh.weft(["rm", "-f", "talker"]).then(() => undefined));
  type Line = {
    service: string;
    container: string;
    source: string;
    level: string;
    message: string;
    traceId: string;
  };
  const lines = await waitFor(
    "the container's lines in /api/v1/logs",
    async () => {
      const got = (await api<{ logs: Line[] }>("/api/v1/logs?service=talker"))?.logs ?? [];
      return got.length >= 2 ? got : undefined;
    },
    30_000,
    500,
  );
  const declined = lines.find((l) => /payment declined/.test(l.message));
  t.like(declined, { container: "talker", source: "stdout", level: "error", traceId });
  t.like(
    lines.find((l) => /cache warm/.test(l.message)),
    { source: "stderr" },
  );
  const search = await api<{ logs: Line[] }>("/api/v1/logs?q=declined");
  t.truthy(search?.logs.find((l) => l.container === "talker"));
});

test("an app's own OpenTelemetry export to 127.0.0.1:4318 reaches the control plane through its sidecar", async (t) => {
  const traceId = "7c3f1a2b4d5e6f708192a3b4c5d6e7f8";
  const body = JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "appsdk" } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId,
                spanId: "1a2b3c4d5e6f7081",
                name: "checkout.compute",
                kind: 1,
                startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                endTimeUnixNano: String((BigInt(Date.now()) + 5n) * 1_000_000n),
              },
            ],
          },
        ],
      },
    ],
  });
  await mesh.weftOk([
    "run",
    "--rm",
    "--name",
    "otlpapp",
    "hello-mesh",
    "timeout",
    "20",
    "wget",
    "-q",
    "-O",
    "-",
    "--header",
    "Content-Type: application/json",
    "--post-data",
    body,
    "http://127.0.0.1:4318/v1/traces",
  ]);
  const spans = await waitFor(
    "the app's span",
    async () => {
      const got = await api<{ spans: Span[] }>(`/api/v1/traces/${traceId}`);
      return got?.spans.length ? got.spans : undefined;
    },
    30_000,
    500,
  );
  t.is(spans[0]?.name, "checkout.compute");
  t.is(spans[0]?.service, "appsdk");
});
