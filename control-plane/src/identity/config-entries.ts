// Consul's config entries of kind service-intentions (/v1/config), the form Consul itself keeps
// intentions in since 1.9 and the one `consul config write`, Terraform's consul_config_entry and
// Consul's Kubernetes CRDs use: one entry per destination with every source's intention.
//   PUT    /v1/config[?cas=N]                       the entry (JSON, CamelCase or snake_case keys)
//   GET    /v1/config/service-intentions[/NAME]     one entry, or all of them
//   DELETE /v1/config/service-intentions/NAME       the destination's AuthorizationPolicy goes
// An entry is the destination's AuthorizationPolicy read as intentions (intentions.ts); writing one
// replaces that policy's rules with the entry's sources and its meta with the entry's Meta (its
// name, labels and default stay). The
// other kinds of Consul's (service-router, proxy-defaults, ...) are not kept: weft's own Route,
// ResiliencePolicy and Service objects do their work, and a write of one is a 400 saying which.
import { ANY_MESH_CALLER, type AuthorizationSpec } from "../../../proto/authorization-rules";
import type { Route } from "../api/http-server";
import { HttpError } from "../api/respond";
import type { ConfigObject } from "../config/types";
import { isServiceName } from "../registration/validate";
import { type IntentionWrite, intentionsOf, withSources } from "./intentions";
import { intentionNotes, intentionWrite, nameParam } from "./intentions-input";
import { type IntentionStore, policyOf, storePolicy, view } from "./intentions-routes";

const KIND = "service-intentions";
const WEFT_EQUIVALENT: Record<string, string> = {
  "service-defaults": "a weft Service (ports, protocol, mtls)",
  "proxy-defaults": "the control plane's flags and Telemetry",
  "service-router": "a weft Route (path, method and header matches)",
  "service-splitter": "a weft Route's weighted subsets",
  "service-resolver": "a weft Route's subsets and ResiliencePolicy",
  mesh: "the control plane's --mtls-mode and a Service's mtls",
};
const KNOWN_KINDS = new Set([
  KIND,
  ...Object.keys(WEFT_EQUIVALENT),
  "ingress-gateway",
  "terminating-gateway",
  "exported-services",
  "sameness-group",
  "jwt-provider",
  "api-gateway",
  "http-route",
  "tcp-route",
  "inline-certificate",
  "bound-api-gateway",
  "file-system-certificate",
  "control-plane-request-limit",
]);

/** Consul's decoder takes keys in any case and snake_case: the names this file reads, by their folded form. */
const CANONICAL = new Map(
  [
    "Kind",
    "Name",
    "Sources",
    "Action",
    "Permissions",
    "HTTP",
    "PathExact",
    "PathPrefix",
    "PathRegex",
    "Methods",
    "Header",
    "Type",
    "Description",
    "Meta",
    "Precedence",
    "Namespace",
    "Partition",
    "Peer",
    "SamenessGroup",
    "JWT",
  ].map((k) => [k.toLowerCase(), k]),
);

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      CANONICAL.get(k.toLowerCase().replaceAll("_", "")) ?? k,
      k === "Meta" || k === "meta" ? v : canonical(v),
    ]),
  );
}

function kindParam(kind: string): string {
  if (!KNOWN_KINDS.has(kind)) throw new HttpError(400, `invalid config entry kind: ${kind}`);
  return kind;
}

/** Only Consul's defaults for namespace, partition and peer: weft has one of each. */
function onlyDefaults(o: Record<string, unknown>, where: string): void {
  for (const [field, allowed] of [
    ["Namespace", "default"],
    ["Partition", "default"],
    ["Peer", ""],
    ["SamenessGroup", ""],
  ] as const) {
    const v = o[field];
    if (v !== undefined && v !== null && v !== "" && v !== allowed)
      throw new HttpError(
        400,
        `${where}${field} "${String(v)}" is not supported: weft has one ${field.toLowerCase()}; leave it out`,
      );
  }
}

interface EntryWrite {
  name: string;
  sources: Array<{ source: string; write: IntentionWrite }>;
  /** The entry's own Meta, kept on the policy (spec.meta); undefined when none was sent. */
  meta?: Record<string, string>;
}

function entryWrite(body: unknown): EntryWrite {
  const o = canonical(body) as Record<string, unknown> | null;
  if (typeof o !== "object" || o === null || Array.isArray(o))
    throw new HttpError(400, "the body must be a config entry: a JSON object with Kind and Name");
  if (typeof o.Kind !== "string" || o.Kind === "") throw new HttpError(400, "Kind is required");
  kindParam(o.Kind);
  if (o.Kind !== KIND) {
    const instead = WEFT_EQUIVALENT[o.Kind];
    throw new HttpError(
      400,
      `config entries of kind ${o.Kind} are not kept by weft${instead ? `; use ${instead} (weft apply)` : ""}; only service-intentions is`,
    );
  }
  onlyDefaults(o, "");
  if (o.JWT !== undefined && o.JWT !== null)
    throw new HttpError(400, "JWT is not supported: weft authorizes by caller, method and path");
  const name = typeof o.Name === "string" ? o.Name : "";
  if (name === ANY_MESH_CALLER)
    throw new HttpError(
      400,
      `Name "*": weft keeps one AuthorizationPolicy per service; write an entry for each service`,
    );
  if (!isServiceName(name))
    throw new HttpError(
      400,
      `Name "${name}" is not a service name (letters, digits, '-', '_', '.'; at most 63)`,
    );
  if (o.Sources !== undefined && o.Sources !== null && !Array.isArray(o.Sources))
    throw new HttpError(400, "Sources must be a list");
  const seen = new Set<string>();
  const sources = ((o.Sources as unknown[] | null | undefined) ?? []).map((raw, i) => {
    if (typeof raw !== "object" || raw === null) throw new HttpError(400, `Sources[${i}] must be an object`);
    const src = raw as Record<string, unknown>;
    onlyDefaults(src, `Sources[${i}].`);
    if (typeof src.Name !== "string" || src.Name === "")
      throw new HttpError(400, `Sources[${i}].Name is required: the calling service, or "*"`);
    const source = nameParam(new URLSearchParams({ name: src.Name }), "name", true);
    if (seen.has(source))
      throw new HttpError(400, `Sources[${i}]: "${source}" is listed twice; give each source once`);
    seen.add(source);
    if (src.Type !== undefined && src.Type !== "" && src.Type !== "consul")
      throw new HttpError(400, `Sources[${i}].Type must be "consul", got ${JSON.stringify(src.Type)}`);
    try {
      return { source, write: intentionWrite(src) };
    } catch (err) {
      if (err instanceof HttpError) throw new HttpError(400, `Sources[${i}]: ${err.message}`);
      throw err;
    }
  });
  const { Meta: meta } = intentionNotes(undefined, o.Meta);
  return { name, sources, ...(meta ? { meta } : {}) };
}

/** A policy (absent: none) read as its service's entry; undefined when it holds no intention. */
function entryOf(policy: ConfigObject | undefined) {
  if (!policy) return undefined;
  const v = view(policy);
  const sources = intentionsOf(v);
  if (sources.length === 0) return undefined;
  return {
    Kind: KIND,
    Name: v.spec.service,
    Sources: sources.map((i) => ({
      Name: i.SourceName,
      ...(i.Action ? { Action: i.Action } : { Permissions: i.Permissions }),
      Precedence: i.Precedence,
      Type: "consul",
      Description: i.Description,
    })),
    Meta: v.spec.meta ?? {},
    CreateIndex: v.version,
    ModifyIndex: v.version,
  };
}

/** ?cas=N: the write happens only when the entry's ModifyIndex is N (0: there is none). */
function casHolds(policy: ConfigObject | undefined, query: URLSearchParams): boolean {
  const cas = query.get("cas");
  if (cas === null) return true;
  if (!/^\d{1,15}$/.test(cas)) throw new HttpError(400, `cas must be a whole number, got "${cas}"`);
  return (entryOf(policy)?.ModifyIndex ?? 0) === Number(cas);
}

const kindOrName = (v: string) =>
  KNOWN_KINDS.has(v) || isServiceName(v)
    ? undefined
    : `"${v}" is neither a config entry kind nor a service name`;

export function configEntryRoutes(s: IntentionStore): Route[] {
  return [
    {
      pattern: ["v1", "config"],
      consul: true,
      method: "PUT",
      answer: (_p, q, body) => {
        const entry = entryWrite(body.json());
        const current = policyOf(s, entry.name);
        if (!casHolds(current, q)) return false;
        // A write replaces the whole entry, its Meta too (none sent: none kept).
        const { meta: _old, ...spec } = withSources(
          current?.spec as AuthorizationSpec | undefined,
          entry.name,
          entry.sources,
        );
        storePolicy(s, current, entry.name, entry.meta ? { ...spec, meta: entry.meta } : spec);
        return true;
      },
    },
    {
      pattern: ["v1", "config", ":kind"],
      consul: true,
      checkParam: kindOrName,
      answer: ([kind]) => {
        if (kindParam(kind!) !== KIND) return [];
        return s
          .list("AuthorizationPolicy")
          .map((o) => entryOf(o))
          .filter((e) => e !== undefined)
          .sort((a, b) => a.Name.localeCompare(b.Name));
      },
    },
    {
      pattern: ["v1", "config", ":kind", ":name"],
      consul: true,
      checkParam: kindOrName,
      answer: ([kind, name]) => {
        const entry = kindParam(kind!) === KIND ? entryOf(policyOf(s, name!)) : undefined;
        if (!entry) throw new HttpError(404, `Config entry not found for "${kind}" / "${name}"`);
        return entry;
      },
    },
    {
      pattern: ["v1", "config", ":kind", ":name"],
      consul: true,
      checkParam: kindOrName,
      method: "DELETE",
      answer: ([kind, name], q) => {
        if (kindParam(kind!) !== KIND) return true;
        const current = policyOf(s, name!);
        if (!casHolds(current, q)) return false;
        // The entry is the policy: without it the service takes every caller, as in Consul with no
        // intentions (and ACLs' default allow).
        if (current) s.delete("AuthorizationPolicy", current.metadata.name, current.metadata.version);
        return true;
      },
    },
  ];
}
