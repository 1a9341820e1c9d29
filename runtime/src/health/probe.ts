// One health probe: run the check once and say how it went. A probe never throws; a check that cannot
// run (container gone, connection refused, timeout) is a failed probe with the reason as its output.
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import type { HealthCheckSpec, HealthProbeResult } from "../engine/types";

/** Docker keeps at most this much of a probe's output. */
export const MAX_OUTPUT_BYTES = 4096;

/** Exit code of a probe that timed out or could not run, as Docker reports it. */
export const PROBE_ERROR_EXIT = -1;

export type ExecFn = (
  id: string,
  args: string[],
  timeoutMs: number,
) => Promise<{ exitCode: number; output: string }>;

export interface ProbeTarget {
  id: string;
  address: string;
  healthcheck: HealthCheckSpec;
}

export interface ProbeOutcome {
  exitCode: number;
  output: string;
}

/** Runs the probe: exec in the container, or GET from the host. 0 = healthy. */
export async function runProbe(target: ProbeTarget, exec: ExecFn): Promise<ProbeOutcome> {
  const hc = target.healthcheck;
  try {
    if (hc.exec) {
      const r = await withTimeout(exec(target.id, hc.exec, hc.timeoutMs), hc.timeoutMs);
      return { exitCode: r.exitCode, output: r.output };
    }
    if (hc.http) return await httpProbe(target.address, hc.http.port, hc.http.path, hc.timeoutMs);
    return { exitCode: PROBE_ERROR_EXIT, output: "the health check has neither exec nor http" };
  } catch (err) {
    return { exitCode: PROBE_ERROR_EXIT, output: (err as Error).message };
  }
}

/**
 * deps.exec must kill its process at the timeout; this is the backstop for one that does not return
 * (a wedged runc exec), so that one stuck probe cannot stop the checks of a container for good.
 */
function withTimeout<T>(p: Promise<T>, timeoutMs: number): Promise<T> {
  const graceMs = 5000;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`health check timed out after ${timeoutMs} ms`)),
      timeoutMs + graceMs,
    );
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

/** What an HTTP probe says it is, as the kubelet's "kube-probe/1.x". */
const PROBE_USER_AGENT = "weft-probe/1";

/**
 * A W3C traceparent for a new trace that is not sampled. A probe goes through the container's
 * sidecar, which would otherwise trace every probe (and the app's calls made for it) as a user
 * request; with this, sidecars that follow the caller's decision (the default) trace none of it,
 * as a probe rewritten to Istio's agent is not traced. Requests are still counted and access-logged.
 */
function unsampledTraceparent(): string {
  return `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-00`;
}

/**
 * GET http://ADDRESS:PORT/PATH: 2xx and 3xx are healthy; the status line is the output. The request
 * says it is a probe (User-Agent) and asks not to be traced (unsampledTraceparent).
 */
export function httpProbe(
  address: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(o);
    };
    const req = request(
      {
        host: address,
        port,
        path: path.startsWith("/") ? path : `/${path}`,
        method: "GET",
        agent: false,
        headers: { "user-agent": PROBE_USER_AGENT, traceparent: unsampledTraceparent() },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const line = `HTTP ${status} ${res.statusMessage ?? ""}`.trimEnd();
        // The body is not needed; drain it so the socket can close.
        res.resume();
        finish({ exitCode: status >= 200 && status < 400 ? 0 : 1, output: line });
      },
    );
    const timer = setTimeout(
      () => finish({ exitCode: PROBE_ERROR_EXIT, output: `health check timed out after ${timeoutMs} ms` }),
      timeoutMs,
    );
    req.on("error", (err) =>
      finish({ exitCode: 1, output: `GET http://${address}:${port}${path}: ${err.message}` }),
    );
    req.end();
  });
}

/** Caps output at MAX_OUTPUT_BYTES (UTF-8), on a character boundary. */
export function capOutput(output: string): string {
  const buf = Buffer.from(output, "utf8");
  if (buf.length <= MAX_OUTPUT_BYTES) return output;
  // Decoding a cut multi-byte character gives U+FFFD at the end; drop it.
  return buf
    .subarray(0, MAX_OUTPUT_BYTES)
    .toString("utf8")
    .replace(/\uFFFD$/, "");
}

export function probeResult(start: Date, end: Date, o: ProbeOutcome): HealthProbeResult {
  return {
    start: start.toISOString(),
    end: end.toISOString(),
    exitCode: o.exitCode,
    output: capOutput(o.output),
  };
}
