// Running a RequestPlan (upstream/plan.ts) outside the HTTP/1.1 exchange: how a failed attempt is
// classified and answered (HTTP/1.1 and HTTP/2), and the injected fault (HTTP/2).
import type { AttemptOutcome, InjectedFault } from "../upstream/plan";

/** Connect errors: nothing reached the upstream. */
const CONNECT_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EADDRNOTAVAIL"]);

export function failureOutcome(err: NodeJS.ErrnoException): AttemptOutcome {
  // An HTTP/2 stream on a session that could not connect fails with the connect error as its cause.
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
  return CONNECT_ERRORS.has(err.code ?? "") || CONNECT_ERRORS.has(cause?.code ?? "")
    ? { kind: "connect-failure", error: err.message }
    : { kind: "reset", error: err.message };
}

/**
 * What the client gets when the last attempt failed: 503 when no connection could be made (as
 * Envoy: the request never reached the upstream, so the caller's retry policy may send it
 * elsewhere), 502 when the connection broke.
 */
export function failureAnswer(
  outcome: AttemptOutcome,
  where: { upstream?: string; service: string },
): [status: number, message: string] {
  if (outcome.kind === "connect-failure")
    return [503, `upstream connect error: ${where.upstream} for ${where.service}: ${outcome.error}\n`];
  const reason = outcome.kind === "reset" ? outcome.error : outcome.kind;
  return [502, `upstream ${where.upstream} for ${where.service} failed: ${reason}\n`];
}

/**
 * Applies an injected fault, then forwards: waits the delay (unless the client leaves meanwhile),
 * then either answers the abort status or calls `forward`.
 */
export function delayThenForward(
  fault: InjectedFault | undefined,
  client: NodeJS.EventEmitter,
  answer: (status: number, message: string, close: boolean, headers?: Record<string, string>) => void,
  forward: () => void,
): void {
  const go = () => {
    if (fault && fault.abortStatus > 0)
      return answer(fault.abortStatus, "fault injected by the route\n", false, { "x-weft-fault": "abort" });
    forward();
  };
  if (!fault || fault.delayMs <= 0) return void go();
  const timer = setTimeout(go, fault.delayMs);
  client.once("close", () => clearTimeout(timer));
}
