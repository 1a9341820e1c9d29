// Health checks against real things: an HTTP server on 127.0.0.1 that turns unhealthy and back, and
// exec probes as real child processes, including one that hangs and must be killed.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import test from "ava";
import { systemClock } from "../engine/parts";
import type { HealthCheckSpec, HealthState } from "../engine/types";
import { execWithTimeout } from "./exec-process";
import { HealthMonitor } from "./monitor";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

function monitorFor(
  t: { teardown(fn: () => void): void },
  healthcheck: HealthCheckSpec,
  address = "127.0.0.1",
) {
  let latest: HealthState | undefined;
  const monitor = new HealthMonitor({
    clock: systemClock,
    logger: quiet,
    exec: (_id, args, timeoutMs) => execWithTimeout(args, timeoutMs),
    onChange: (_id, h) => {
      latest = h;
    },
  });
  t.teardown(() => monitor.close());
  monitor.watch({ id: "c1", name: "web", address, startedAt: new Date().toISOString(), healthcheck });
  const until = async (what: string, ok: (h: HealthState) => boolean): Promise<HealthState> => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (latest && ok(latest)) return latest;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}; last state ${JSON.stringify(latest)}`);
  };
  return { until };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
}

const fast = { intervalMs: 50, timeoutMs: 2000, retries: 2, startPeriodMs: 0 };

test("an HTTP check follows a server that turns unhealthy and comes back", async (t) => {
  let status = 200;
  const seen: Array<{ agent?: string; traceparent?: string }> = [];
  const server = createServer((req, res) => {
    seen.push({ agent: req.headers["user-agent"], traceparent: req.headers.traceparent as string });
    res.writeHead(req.url === "/healthz" ? status : 404).end("body");
  });
  const port = await listen(server);
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const { until } = monitorFor(t, { http: { port, path: "/healthz" }, ...fast });
  const healthy = await until("healthy", (h) => h.status === "healthy");
  t.is(healthy.log.at(-1)?.output, "HTTP 200 OK");
  status = 503;
  const unhealthy = await until("unhealthy", (h) => h.status === "unhealthy");
  t.true(unhealthy.failingStreak >= 2);
  t.is(unhealthy.log.at(-1)?.output, "HTTP 503 Service Unavailable");
  status = 302;
  await until("healthy again (3xx counts)", (h) => h.status === "healthy");
  // Each probe says what it is and opens its own trace, marked not sampled, so that the sidecar in
  // front of the app does not trace it.
  t.true(seen.length >= 3);
  t.true(seen.every((s) => s.agent === "weft-probe/1"));
  t.true(seen.every((s) => /^00-[\da-f]{32}-[\da-f]{16}-00$/.test(s.traceparent ?? "")));
  t.is(new Set(seen.map((s) => s.traceparent!.slice(3, 35))).size, seen.length);
});

test("an HTTP check that gets no answer times out and fails", async (t) => {
  const server = createServer(() => {
    // Never answers.
  });
  const port = await listen(server);
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const { until } = monitorFor(t, { http: { port, path: "/" }, ...fast, timeoutMs: 200, retries: 1 });
  const h = await until("unhealthy", (s) => s.status === "unhealthy");
  t.is(h.log.at(-1)?.exitCode, -1);
  t.regex(h.log.at(-1)?.output ?? "", /timed out after 200 ms/);
});

test("exec checks: exit 0 is healthy, a failing command is unhealthy with its output", async (t) => {
  const marker = `/tmp/weft-health-${randomBytes(4).toString("hex")}`;
  t.teardown(() => execFileSync("rm", ["-f", marker]));
  const { until } = monitorFor(t, { exec: ["sh", "-c", `cat ${marker}`], ...fast });
  const bad = await until("unhealthy", (h) => h.status === "unhealthy");
  t.not(bad.log.at(-1)?.exitCode, 0);
  t.regex(bad.log.at(-1)?.output ?? "", /No such file/);
  execFileSync("sh", ["-c", `echo ready > ${marker}`]);
  const good = await until("healthy", (h) => h.status === "healthy");
  t.is(good.log.at(-1)?.output, "ready\n");
});

test("an exec check that hangs is killed at its timeout and counts as a failure", async (t) => {
  const tag = `sleep 1000.${randomBytes(4).readUInt32BE(0)}`;
  // The hanging process is a grandchild (sh runs sleep), which must die with the probe.
  const { until } = monitorFor(t, {
    exec: ["sh", "-c", `${tag}; true`],
    ...fast,
    timeoutMs: 300,
    retries: 1,
  });
  const h = await until("unhealthy", (s) => s.status === "unhealthy");
  t.is(h.log.at(-1)?.exitCode, -1);
  t.regex(h.log.at(-1)?.output ?? "", /timed out after 300 ms/);
  const left = await pollGone(tag);
  t.is(left, "", "no probe process is left running");
});

async function pollGone(tag: string): Promise<string> {
  let out = "";
  for (let i = 0; i < 100; i++) {
    out = execFileSync("sh", ["-c", `pgrep -f '^${tag}$' || true`], { encoding: "utf8" }).trim();
    if (out === "") return out;
    await new Promise((r) => setTimeout(r, 100));
  }
  return out;
}
