// Fault injection for testing (Istio's HTTPFaultInjection): each request is independently delayed
// with probability delayRatio and aborted with probability abortRatio.
import type { FaultConfig } from "../config/types";
import type { InjectedFault } from "./plan";

/** The fault for one request, or undefined when neither part fires. */
export function drawFault(config: FaultConfig | undefined, random: () => number): InjectedFault | undefined {
  if (!config) return undefined;
  const delayMs = config.delayMs > 0 && random() < config.delayRatio ? config.delayMs : 0;
  const abortStatus = config.abortStatus > 0 && random() < config.abortRatio ? config.abortStatus : 0;
  return delayMs || abortStatus ? { delayMs, abortStatus } : undefined;
}
