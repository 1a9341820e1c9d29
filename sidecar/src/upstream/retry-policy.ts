// Which failed attempts are tried again. Without a rule's `retries`, Istio's default: 2 retries on
// connect failure and 503, within a retry budget of 20%.
import type { RetryConfig } from "../config/types";
import { type AttemptOutcome, IDEMPOTENT_METHODS } from "./plan";

export interface RetrySettings {
  /** Retries after the first attempt (2: up to 3 tries); 0: none. */
  attempts: number;
  /** Per attempt, to the response head; 0: none. */
  perTryTimeoutMs: number;
  /** Statuses retried (idempotent requests only). */
  retryOnStatus: readonly number[];
  /** Connect failures are retried for any method: nothing reached the upstream. */
  retryOnConnectFailure: boolean;
  /** Retries as a share of requests over the budget window. */
  budgetRatio: number;
}

export const RETRY_DEFAULTS: RetrySettings = {
  attempts: 2,
  perTryTimeoutMs: 0,
  retryOnStatus: [503],
  retryOnConnectFailure: true,
  budgetRatio: 0.2,
};

/** The rule's retries, or the defaults; a budget ratio of 0 means the default (proto3 unset). */
export function retrySettings(config: RetryConfig | undefined): RetrySettings {
  if (!config) return RETRY_DEFAULTS;
  return {
    attempts: config.attempts,
    perTryTimeoutMs: config.perTryTimeoutMs,
    retryOnStatus: config.retryOnStatus,
    retryOnConnectFailure: config.retryOnConnectFailure,
    budgetRatio: config.budgetRatio || RETRY_DEFAULTS.budgetRatio,
  };
}

/**
 * Whether `outcome` may be retried under `settings`, before attempts and budget are counted.
 * `method` is undefined for an opaque TCP connection: only a failed connect is retried there.
 */
export function isRetryable(outcome: AttemptOutcome, settings: RetrySettings, method?: string): boolean {
  if (outcome.kind === "connect-failure") return settings.retryOnConnectFailure;
  if (method === undefined) return false;
  // The request may have reached the upstream: only a method that may be sent twice is.
  if (!IDEMPOTENT_METHODS.has(method.toUpperCase())) return false;
  switch (outcome.kind) {
    case "response":
      return settings.retryOnStatus.includes(outcome.status);
    case "reset":
    case "timeout":
      return true;
    case "cancelled":
      return false;
  }
}

/** The outcome as a metric label: the status code, or what went wrong. */
export function outcomeLabel(outcome: AttemptOutcome): string {
  return outcome.kind === "response" ? String(outcome.status) : outcome.kind;
}
