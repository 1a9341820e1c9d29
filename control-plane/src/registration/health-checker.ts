// Runs the agent API's HTTP and TCP checks from the control plane, and watches TTL checks for
// expiry. One timer per check; each attempt has its own timeout, results go to `report`, failures of
// the checker itself go to the log, and close() stops every timer and in-flight attempt.
import { connect } from "node:net";
import type { CheckDefinition, CheckStatus } from "./agent-definition";

export type CheckReport = (checkId: string, status: CheckStatus, output: string) => void;

/** Consul keeps at most 4 KiB of a check's output. */
const MAX_OUTPUT = 4096;

interface Running {
  timer?: NodeJS.Timeout;
  abort: AbortController;
}

export class HealthChecker {
  private readonly running = new Map<string, Running>();
  private closed = false;

  constructor(
    private readonly report: CheckReport,
    private readonly log: (message: string) => void,
  ) {}

  /** Starts (or restarts) `check`: http/tcp run now and every interval; ttl starts its expiry timer. */
  start(check: CheckDefinition): void {
    this.stop(check.id);
    if (this.closed) return;
    const entry: Running = { abort: new AbortController() };
    this.running.set(check.id, entry);
    if (check.kind === "ttl") {
      this.armTtl(check, entry);
      return;
    }
    const tick = async () => {
      if (entry.abort.signal.aborted) return;
      try {
        const [status, output] = await this.attempt(check, entry.abort.signal);
        if (!entry.abort.signal.aborted) this.report(check.id, status, output.slice(0, MAX_OUTPUT));
      } catch (err) {
        this.log(`health check ${check.id} could not run: ${(err as Error).message}`);
      }
      if (!entry.abort.signal.aborted) entry.timer = setTimeout(tick, check.intervalMs);
    };
    void tick();
  }

  /** A TTL check was updated: its expiry starts over. */
  touchTtl(check: CheckDefinition): void {
    const entry = this.running.get(check.id);
    if (entry && check.kind === "ttl") this.armTtl(check, entry);
  }

  stop(checkId: string): void {
    const entry = this.running.get(checkId);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.abort.abort();
    this.running.delete(checkId);
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.running.keys()]) this.stop(id);
  }

  private armTtl(check: CheckDefinition, entry: Running): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (!entry.abort.signal.aborted)
        this.report(check.id, "critical", `TTL expired (no update within ${check.ttlMs} ms)`);
    }, check.ttlMs);
  }

  private attempt(check: CheckDefinition, stop: AbortSignal): Promise<[CheckStatus, string]> {
    return check.kind === "http" ? httpAttempt(check, stop) : tcpAttempt(check, stop);
  }
}

/** Consul's rules: 2xx passing, 429 warning, anything else or no answer critical. */
async function httpAttempt(check: CheckDefinition, stop: AbortSignal): Promise<[CheckStatus, string]> {
  const headers = new Headers();
  for (const [k, values] of Object.entries(check.header)) for (const v of values) headers.append(k, v);
  const signal = AbortSignal.any([stop, AbortSignal.timeout(check.timeoutMs)]);
  try {
    const res = await fetch(check.target, { method: check.method, headers, signal, redirect: "manual" });
    const body = (await res.text()).slice(0, MAX_OUTPUT);
    const line = `HTTP ${check.method} ${check.target}: ${res.status} ${res.statusText} Output: ${body}`;
    if (res.status >= 200 && res.status < 300) return ["passing", line];
    return [res.status === 429 ? "warning" : "critical", line];
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === "TimeoutError"
        ? `timed out after ${check.timeoutMs} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    return ["critical", `HTTP ${check.method} ${check.target}: ${why}`];
  }
}

function tcpAttempt(check: CheckDefinition, stop: AbortSignal): Promise<[CheckStatus, string]> {
  const at = check.target.lastIndexOf(":");
  const host = check.target.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(check.target.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (result: [CheckStatus, string]) => {
      clearTimeout(timer);
      stop.removeEventListener("abort", onStop);
      socket.destroy();
      resolve(result);
    };
    const onStop = () => finish(["critical", "check stopped"]);
    const timer = setTimeout(
      () => finish(["critical", `dial tcp ${check.target}: timed out after ${check.timeoutMs} ms`]),
      check.timeoutMs,
    );
    stop.addEventListener("abort", onStop);
    socket.once("connect", () => finish(["passing", `TCP connect ${check.target}: Success`]));
    socket.once("error", (err: NodeJS.ErrnoException) =>
      finish(["critical", `dial tcp ${check.target}: ${err.code ?? err.message}`]),
    );
  });
}
