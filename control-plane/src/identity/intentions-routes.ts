// Consul's intentions API (/v1/connect/intentions), read from and written to the AuthorizationPolicies
// in the config store (intentions.ts says how they map), so `consul intention ...`, Terraform's
// consul_intention and scripts written against Consul manage who may call whom, and every change is
// an ordinary, versioned config change that the sidecars enforce:
//   GET    /v1/connect/intentions                       every intention
//   GET    /v1/connect/intentions/match?by=&name=       a source's or destination's, by precedence
//   GET    /v1/connect/intentions/check?source=&destination=   {"Allowed": bool}
//   GET|PUT|DELETE /v1/connect/intentions/exact?source=&destination=
//   POST   /v1/connect/intentions                       the legacy create ({"ID"}); 409 when present
//   GET|PUT|DELETE /v1/connect/intentions/ID            the legacy forms, by the ID a read gave
// Description and Meta are kept on the intention's first rule and read back as written.
import { ANY_MESH_CALLER, type AuthorizationSpec, authorize } from "../../../proto/authorization-rules";
import type { Route } from "../api/http-server";
import type { RequestBody } from "../api/request-body";
import { HttpError } from "../api/respond";
import { ConfigError, ConfigValidationError } from "../config/errors";
import type { SqliteConfigStore } from "../config/sqlite-config-store";
import type { ConfigObject } from "../config/types";
import {
  allowsEverything,
  type Intention,
  type IntentionWrite,
  intentionIn,
  intentionsOf,
  type PolicyView,
  sortIntentions,
  withIntention,
  withoutSource,
} from "./intentions";
import { intentionWrite, nameParam } from "./intentions-input";

export type IntentionStore = Pick<SqliteConfigStore, "list" | "get" | "forService" | "apply" | "delete">;

const KIND = "AuthorizationPolicy";
/** The label on a policy this API made; such a policy goes once it allows everything again. */
export const MADE_BY_LABEL = "weft.dev/made-by";
export const MADE_BY_INTENTIONS = "consul-intentions";

export function view(o: ConfigObject): PolicyView {
  return {
    name: o.metadata.name,
    spec: o.spec as AuthorizationSpec,
    version: o.metadata.version,
    createdAt: o.metadata.createdAt,
    updatedAt: o.metadata.updatedAt,
  };
}

/** A policy name for a service that has none, free among the stored ones. */
function newPolicyName(store: IntentionStore, service: string): string {
  const base =
    service
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "service";
  for (let n = 0; ; n++) {
    const name = n === 0 ? `${base}-intentions` : `${base}-intentions-${n + 1}`;
    if (!store.get(KIND, name)) return name;
  }
}

export function policyOf(store: IntentionStore, service: string): ConfigObject | undefined {
  return store.forService(KIND, service).find((o) => (o.spec as AuthorizationSpec).service === service);
}

/** Stores `spec` as `service`'s policy: a new one made, an emptied one of ours deleted. */
export function storePolicy(
  s: IntentionStore,
  current: ConfigObject | undefined,
  service: string,
  spec: AuthorizationSpec,
) {
  // A policy that allows everything is not made (it would change nothing).
  if (!current && allowsEverything(spec)) return;
  try {
    if (current && allowsEverything(spec) && current.metadata.labels[MADE_BY_LABEL] === MADE_BY_INTENTIONS) {
      s.delete(KIND, current.metadata.name, current.metadata.version);
      return;
    }
    const metadata = current
      ? { name: current.metadata.name, labels: current.metadata.labels, version: current.metadata.version }
      : { name: newPolicyName(s, service), labels: { [MADE_BY_LABEL]: MADE_BY_INTENTIONS } };
    s.apply([{ apiVersion: "weft.dev/v1", kind: KIND, metadata, spec }]);
  } catch (err) {
    if (err instanceof ConfigValidationError) throw new HttpError(400, err.message);
    if (err instanceof ConfigError)
      throw new HttpError(err.code === "VERSION_CONFLICT" ? 409 : 400, err.message);
    throw err;
  }
}

function upsert(s: IntentionStore, source: string, destination: string, write: IntentionWrite): void {
  const current = policyOf(s, destination);
  storePolicy(
    s,
    current,
    destination,
    withIntention(current?.spec as AuthorizationSpec | undefined, destination, source, write),
  );
}

function remove(s: IntentionStore, source: string, destination: string): void {
  const current = policyOf(s, destination);
  if (!current) return;
  const spec = current.spec as AuthorizationSpec;
  const next = withoutSource(spec, source);
  if (next.rules.length !== spec.rules.length || next.rules.some((r, i) => r !== spec.rules[i]))
    storePolicy(s, current, destination, next);
}

function exact(s: IntentionStore, source: string, destination: string): Intention | undefined {
  const current = policyOf(s, destination);
  return current && intentionIn(view(current), source);
}

function all(s: IntentionStore): Intention[] {
  return sortIntentions(s.list(KIND).flatMap((o) => intentionsOf(view(o))));
}

function byId(s: IntentionStore, id: string): Intention {
  const found = all(s).find((i) => i.ID === id);
  if (!found) throw new HttpError(404, "Intention not found");
  return found;
}

const pair = (q: URLSearchParams) =>
  [nameParam(q, "source", true), nameParam(q, "destination", false)] as const;

/** The legacy create and update bodies name the pair in the body. */
function bodyPair(b: RequestBody): { source: string; destination: string; write: IntentionWrite } {
  const o = b.json() as { SourceName?: unknown; DestinationName?: unknown };
  const q = new URLSearchParams();
  if (typeof o?.SourceName === "string") q.set("source", o.SourceName);
  if (typeof o?.DestinationName === "string") q.set("destination", o.DestinationName);
  const [source, destination] = pair(q);
  return { source, destination, write: intentionWrite(o) };
}

const isId = (v: string) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v)
    ? undefined
    : `"${v}" is not an intention ID`;

export function intentionRoutes(s: IntentionStore): Route[] {
  const base = ["v1", "connect", "intentions"];
  return [
    { pattern: base, consul: true, answer: () => all(s) },
    {
      pattern: base,
      consul: true,
      method: "POST",
      answer: (_p, _q, body) => {
        const { source, destination, write } = bodyPair(body);
        if (exact(s, source, destination))
          throw new HttpError(
            409,
            `duplicate intention found: ${source} => ${destination}; update it (PUT /v1/connect/intentions/exact) or delete it first`,
          );
        upsert(s, source, destination, write);
        return { ID: exact(s, source, destination)?.ID };
      },
    },
    {
      pattern: [...base, "exact"],
      consul: true,
      answer: (_p, q) => {
        const [source, destination] = pair(q);
        const found = exact(s, source, destination);
        if (!found) throw new HttpError(404, "Intention not found");
        return found;
      },
    },
    {
      pattern: [...base, "exact"],
      consul: true,
      method: "PUT",
      answer: (_p, q, body) => {
        const [source, destination] = pair(q);
        upsert(s, source, destination, intentionWrite(body.json()));
        return true;
      },
    },
    {
      pattern: [...base, "exact"],
      consul: true,
      method: "DELETE",
      answer: (_p, q) => {
        const [source, destination] = pair(q);
        remove(s, source, destination);
        return true;
      },
    },
    {
      pattern: [...base, "match"],
      consul: true,
      answer: (_p, q) => {
        const by = q.get("by");
        if (by !== "source" && by !== "destination")
          throw new HttpError(400, "'by' parameter must be one of 'source' or 'destination'");
        const names = q.getAll("name");
        if (names.length === 0) throw new HttpError(400, "required query parameter 'name' not set");
        const list = all(s);
        const out: Record<string, Intention[]> = {};
        for (const raw of names) {
          const one = new URLSearchParams({ name: raw });
          const name = nameParam(one, "name", by === "source");
          out[raw] = list.filter((i) =>
            by === "destination"
              ? i.DestinationName === name
              : i.SourceName === name || i.SourceName === ANY_MESH_CALLER,
          );
        }
        return out;
      },
    },
    {
      // L4, as Consul's check and /v1/agent/connect/authorize: a DENY rule with a method or path
      // counts, an ALLOW rule with one does not.
      pattern: [...base, "check"],
      consul: true,
      answer: (_p, q) => {
        const [source, destination] = pair(q);
        if (source === ANY_MESH_CALLER) throw new HttpError(400, 'source must name one service, not "*"');
        const current = policyOf(s, destination);
        return { Allowed: current ? authorize(current.spec as AuthorizationSpec, source).allowed : true };
      },
    },
    { pattern: [...base, ":id"], consul: true, checkParam: isId, answer: ([id]) => byId(s, id!) },
    {
      pattern: [...base, ":id"],
      consul: true,
      checkParam: isId,
      method: "PUT",
      answer: ([id], _q, body) => {
        const found = byId(s, id!);
        upsert(s, found.SourceName, found.DestinationName, intentionWrite(body.json()));
        return true;
      },
    },
    {
      pattern: [...base, ":id"],
      consul: true,
      checkParam: isId,
      method: "DELETE",
      answer: ([id]) => {
        const found = byId(s, id!);
        remove(s, found.SourceName, found.DestinationName);
        return true;
      },
    },
  ];
}
