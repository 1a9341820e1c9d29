// What `weft apply` warns about in a Route that is valid but will not do what it says now, as
// kubectl prints a server's warnings and istioctl analyze flags a subset with no pods: a split
// whose labels match no endpoint the service has. The sidecars leave such a subset out of the draw
// (its share goes to the others), and fail the rule's requests with 503 when no subset has any. A
// mirror whose labels match no endpoint copies nothing (the requests themselves are unaffected).
import type { RouteSpec, WeightedSubset } from "./types";

/** The endpoints of the route's service, as the registry lists them now. */
export type EndpointLabels = Array<{ labels: Record<string, string> }>;

export function routeWarnings(spec: RouteSpec, endpoints: EndpointLabels): string[] {
  // A service with no endpoint at all fails every request whatever its routes say; config applied
  // before the workloads start is the usual order, not a mistake to warn about.
  if (endpoints.length === 0) return [];
  const warnings: string[] = [];
  spec.rules.forEach((rule, r) => {
    const mirror = rule.mirror;
    if (mirror && !endpoints.some((e) => matches(e.labels, mirror)))
      warnings.push(
        `spec.rules[${r}].mirror: ${labelText(mirror)} matches no endpoint of service "${spec.service}" now; ` +
          "nothing is copied until a workload with those labels starts",
      );
    const split = rule.split ?? [];
    const weighted = split.filter((s) => s.weight > 0);
    if (weighted.length === 0) return;
    const total = weighted.reduce((sum, s) => sum + s.weight, 0);
    const empty = split
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => s.weight > 0 && !endpoints.some((e) => matches(e.labels, s)));
    if (empty.length === 0) return;
    const where = (i: number) => `spec.rules[${r}].split[${i}]`;
    if (empty.length === weighted.length) {
      warnings.push(
        `spec.rules[${r}]: no subset of its split matches an endpoint of service "${spec.service}" now ` +
          `(${empty.map(({ s }) => labelText(s)).join(", ")}); its requests fail with 503 until a workload with those labels starts`,
      );
      return;
    }
    for (const { s, i } of empty) {
      const share = Math.round((1000 * s.weight) / total) / 10;
      warnings.push(
        `${where(i)}: ${labelText(s)} matches no endpoint of service "${spec.service}" now; ` +
          `its ${share}% goes to the other subsets until a workload with those labels starts`,
      );
    }
  });
  return warnings;
}

function matches(labels: Record<string, string>, s: Pick<WeightedSubset, "labels">): boolean {
  return Object.entries(s.labels).every(([k, v]) => labels[k] === v);
}

function labelText(s: Pick<WeightedSubset, "labels">): string {
  return `{${Object.entries(s.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}}`;
}
