// Starting a throwaway control plane in a test: temp data dir, OS-picked ports, cleaned up after.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ControlPlaneOptions, type RunningControlPlane, startControlPlane } from "./server";

export interface TestControlPlane extends RunningControlPlane {
  dataDir: string;
  logs: string[];
}

export async function startTestControlPlane(
  t: { teardown(fn: () => Promise<void> | void): void },
  dataDir?: string,
  options: ControlPlaneOptions = {},
): Promise<TestControlPlane> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "weft-cp-"));
  if (!dataDir) t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const logs: string[] = [];
  const cp = await startControlPlane({
    dataDir: join(dir, "data"),
    grpcPort: 0,
    httpPort: 0,
    grpcSocket: join(dir, "cp.sock"),
    log: (m) => logs.push(m),
    ...options,
  });
  t.teardown(() => cp.close());
  return Object.assign(cp, { dataDir: dir, logs });
}

/** An HTTP call to a test control plane: its status, X-Consul-Index and body parsed as JSON. */
// biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the route answers.
type Json = any;

export async function callApi(
  cp: RunningControlPlane,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; index: string | null; body: Json }> {
  const res = await fetch(`http://${cp.httpAddress}${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    index: res.headers.get("x-consul-index"),
    body: text ? JSON.parse(text) : undefined,
  };
}
