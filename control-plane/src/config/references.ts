// Checks across objects, on the state an apply would produce: the service a Route, ResiliencePolicy,
// AuthorizationPolicy or per-service Telemetry names must exist (in the registry or as a config
// Service), and a service has at most one ResiliencePolicy, AuthorizationPolicy and Telemetry.
import { ConfigValidationError } from "./errors";
import type { ConfigDocument, ConfigKind, ConfigObject } from "./types";

export interface ReferenceContext {
  /** Whether the registry holds the service (implied by endpoints, or defined earlier). */
  registryHas(service: string): boolean;
  /** The stored objects of a kind. */
  list(kind: ConfigKind): ConfigObject[];
}

/** Throws the first problem, placed at the index of the document that has it. */
export function checkReferences(docs: ConfigDocument[], ctx: ReferenceContext): void {
  const configServices = new Set(ctx.list("Service").map((o) => o.metadata.name));
  for (const d of docs) if (d.kind === "Service") configServices.add(d.metadata.name);

  docs.forEach((doc, index) => {
    if (doc.kind === "Service") return;
    const service = (doc.spec as { service?: string }).service;
    if (!service) return;
    if (!configServices.has(service) && !ctx.registryHas(service)) {
      throw new ConfigValidationError(
        "spec.service",
        `spec.service: service "${service}" does not exist; define it in the same apply with a document ` +
          `"apiVersion: weft.dev/v1, kind: Service, metadata: {name: ${service}}, spec: {ports: [...]}" ` +
          `or start a workload with '--service ${service}', then apply this ${doc.kind} again`,
        "the name of a service in the registry or a config Service",
      ).at(index);
    }
    if (doc.kind === "ResiliencePolicy" || doc.kind === "Telemetry" || doc.kind === "AuthorizationPolicy") {
      const other = ownerOf(doc.kind, service, doc.metadata.name, docs, ctx);
      if (other) {
        throw new ConfigValidationError(
          "spec.service",
          `spec.service: service "${service}" already has the ${doc.kind} "${other}"; a service has one, so change that one or delete it first`,
          `a service without another ${doc.kind}`,
        ).at(index);
      }
    }
  });
}

/** Another object of `kind` for `service` after the apply: stored (unless re-pointed by it) or in it. */
function ownerOf(
  kind: ConfigKind,
  service: string,
  name: string,
  docs: ConfigDocument[],
  ctx: ReferenceContext,
): string | undefined {
  const inBatch = new Map(docs.filter((d) => d.kind === kind).map((d) => [d.metadata.name, d]));
  for (const [otherName, d] of inBatch) {
    if (otherName !== name && (d.spec as { service?: string }).service === service) return otherName;
  }
  for (const o of ctx.list(kind)) {
    if (o.metadata.name === name || inBatch.has(o.metadata.name)) continue;
    if ((o.spec as { service?: string }).service === service) return o.metadata.name;
  }
  return undefined;
}
