// Helpers for the telemetry tests: a control plane with OTLP receivers on OS-picked ports, spans made
// by the real OpenTelemetry SDK, and JSON reads of the REST API.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningControlPlane, startControlPlane } from "../control-plane/src/index";
import type { RetentionLimits } from "../control-plane/src/telemetry/index";

export interface TelemetryTestPlane extends RunningControlPlane {
  dir: string;
  logs: string[];
  otlpGrpc: string;
  otlpHttp: string;
  http: string;
}

export async function startTelemetryPlane(
  t: { teardown(fn: () => Promise<void> | void): void },
  retention?: Partial<RetentionLimits>,
): Promise<TelemetryTestPlane> {
  const dir = mkdtempSync(join(tmpdir(), "weft-tel-"));
  const logs: string[] = [];
  const cp = await startControlPlane({
    dataDir: join(dir, "data"),
    grpcPort: 0,
    httpPort: 0,
    grpcSocket: "",
    otlpGrpcPort: 0,
    otlpHttpPort: 0,
    telemetryRetention: retention,
    log: (m) => logs.push(m),
  });
  t.teardown(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return Object.assign(cp, {
    dir,
    logs,
    otlpGrpc: cp.telemetry.otlpGrpcAddress,
    otlpHttp: cp.telemetry.otlpHttpAddress,
    http: `http://${cp.httpAddress}`,
  });
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: (await res.json()) as T };
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
