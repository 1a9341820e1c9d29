// One place where documents from the wire (REST bodies, files) become typed config: every field
// checked, unknown fields named, defaults applied. Takes `unknown`, returns a ConfigDocument or
// throws a ConfigValidationError with the field path and what is allowed.

import { ConfigValidationError, invalid } from "./errors";
import { CONFIG_KINDS, isConfigKind } from "./kinds";
import { API_VERSION, type ConfigDocument, type ConfigKind } from "./types";
import { authorizationPolicySpec } from "./validate-authorization";
import { dnsLabel, isAbsent, object, stringMap } from "./validate-fields";
import { resiliencePolicySpec, routeSpec, serviceSpec } from "./validate-specs";
import { telemetrySpec } from "./validate-telemetry";

/** Fields the API adds on output; accepted on input (so `get -o yaml` can be applied) and ignored. */
const OUTPUT_ONLY_METADATA = ["createdAt", "updatedAt"];

export function validateDocument(value: unknown): ConfigDocument {
  const doc = object(value, "", ["apiVersion", "kind", "metadata", "spec"]);
  if (doc.apiVersion !== API_VERSION) {
    invalid(
      "apiVersion",
      API_VERSION,
      `apiVersion must be ${API_VERSION}, got ${JSON.stringify(doc.apiVersion ?? "")}`,
    );
  }
  if (!isConfigKind(doc.kind)) {
    invalid(
      "kind",
      `one of ${CONFIG_KINDS.join(", ")}`,
      `kind must be one of ${CONFIG_KINDS.join(", ")}, got ${JSON.stringify(doc.kind ?? "")}`,
    );
  }
  const kind: ConfigKind = doc.kind;
  if (isAbsent(doc.metadata))
    invalid("metadata", "an object with a name", "metadata is required: give at least metadata.name");
  const meta = object(doc.metadata, "metadata", ["name", "labels", "version", ...OUTPUT_ONLY_METADATA]);
  const name = dnsLabel(meta.name, "metadata.name");
  const labels = stringMap(meta.labels, "metadata.labels") ?? {};
  let version: number | undefined;
  if (!isAbsent(meta.version)) {
    if (typeof meta.version !== "number" || !Number.isSafeInteger(meta.version) || meta.version < 1) {
      invalid("metadata.version", "a positive integer (the version you read; leave it out to overwrite)");
    }
    version = meta.version;
  }
  if (isAbsent(doc.spec) && kind !== "Telemetry")
    invalid("spec", `the ${kind} spec`, `spec is required for a ${kind}`);
  const spec = validateSpec(kind, doc.spec, name);
  const metadata = version === undefined ? { name, labels } : { name, labels, version };
  return { kind, metadata, spec };
}

export function validateSpec(kind: ConfigKind, spec: unknown, name: string): unknown {
  switch (kind) {
    case "Service":
      return serviceSpec(spec);
    case "Route":
      return routeSpec(spec);
    case "ResiliencePolicy":
      return resiliencePolicySpec(spec);
    case "Telemetry":
      return telemetrySpec(spec, name);
    case "AuthorizationPolicy":
      return authorizationPolicySpec(spec);
  }
}

/** Validates a list; an error carries the index of the first bad document. Rejects duplicates. */
export function validateDocuments(values: unknown): ConfigDocument[] {
  if (!Array.isArray(values)) {
    throw new ConfigValidationError(
      "",
      "the body must be a list of documents (or one document)",
      "a list of documents",
    );
  }
  const seen = new Map<string, number>();
  return values.map((value, index) => {
    let doc: ConfigDocument;
    try {
      doc = validateDocument(value);
    } catch (err) {
      if (err instanceof ConfigValidationError) throw err.at(index);
      throw err;
    }
    const key = `${doc.kind}/${doc.metadata.name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ConfigValidationError(
        "metadata.name",
        `${doc.kind} "${doc.metadata.name}" appears twice in one apply (documents ${first + 1} and ${index + 1}); keep one`,
        "each kind and name once per apply",
      ).at(index);
    }
    seen.set(key, index);
    return doc;
  });
}

/** The service a document governs (for change notices and lookups). */
export function serviceOf(kind: ConfigKind, name: string, spec: unknown): string | undefined {
  if (kind === "Service") return name;
  return (spec as { service?: string }).service || undefined;
}
