// Test fixtures for the routing layer: endpoints, a seeded random, a clock the test moves, and a
// fake upstream that answers each attempt by the endpoint it went to. Used by *.test.ts only.
import type { EndpointConfig, PortConfig, RouteRuleConfig, ServiceRoutesConfig } from "../config/types";
import type { RequestInfo } from "../http/route";
import { type AttemptOutcome, isRefusal, type RequestPlan } from "./plan";

export const HTTP80: PortConfig = { name: "http", port: 80, protocol: "http" };

export function endpoint(n: number, labels: Record<string, string> = {}): EndpointConfig {
  return {
    id: `web-${n}`,
    service: "web",
    address: `10.0.0.${n}`,
    ports: [],
    labels,
    workload: `w${n}`,
    node: "n1",
    healthy: true,
  };
}

/** "10.0.0.N:80", the key and metric label of endpoint(N). */
export const key = (n: number) => `10.0.0.${n}:80`;

/** A seeded random (mulberry32): the same sequence for the same seed, so counts in tests are stable. */
export { seededRandom as seeded } from "../../../test/support/generated";

export class Clock {
  ms = 1_000;
  readonly now = () => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function get(path = "/", headers: Array<[string, string]> = [], method = "GET"): RequestInfo {
  return { method, path, authority: "web", headers, protocol: "http1" };
}

export function routes(...rules: Array<Partial<RouteRuleConfig> & { name?: string }>): ServiceRoutesConfig {
  return {
    service: "web",
    routes: rules.map((r, i) => ({
      name: r.name ?? `r${i}`,
      version: 1,
      rules: [{ split: [], timeoutMs: 0, ...r }],
    })),
  };
}

/**
 * Runs a plan as a proxy would, with `answer` deciding each attempt's outcome by endpoint id;
 * every attempt is replayable. Returns the endpoints tried, or the refusal's status.
 */
export function run(
  plan: RequestPlan | { status: number },
  answer: (endpointId: string) => AttemptOutcome,
): { tried: string[]; refused?: number } {
  if (!("next" in plan)) return { tried: [], refused: plan.status };
  const tried: string[] = [];
  for (;;) {
    const target = plan.next();
    if (isRefusal(target)) return { tried, refused: target.status };
    tried.push(target.endpoint);
    if (!plan.ended(target, answer(target.endpoint), true)) return { tried };
  }
}

export const ok = (latencyMs = 10): AttemptOutcome => ({ kind: "response", status: 200, latencyMs });
export const status = (code: number): AttemptOutcome => ({ kind: "response", status: code, latencyMs: 1 });
export const refused: AttemptOutcome = { kind: "connect-failure", error: "ECONNREFUSED" };
