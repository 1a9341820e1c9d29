// The Via header (RFC 9110 §7.6.3): each proxy appends its own entry, so a request that crossed
// both sidecars reads "1.1 app (weft-outbound), 1.1 reviews (weft-inbound)".
import type { Direction } from "../telemetry/metrics";

export function viaEntry(workload: string, direction: Direction): string {
  return `1.1 ${workload} (weft-${direction})`;
}

export function appendVia(existing: string | string[] | number | undefined, entry: string): string {
  const prior = Array.isArray(existing)
    ? existing.join(", ")
    : existing === undefined
      ? ""
      : String(existing);
  return prior ? `${prior}, ${entry}` : entry;
}
