// Consul's intentions over Weft's AuthorizationPolicy: one service's policy read as the intentions a
// Consul user would see, and an intention written into it. An intention SOURCE -> DEST is the rules of
// DEST's policy for SOURCE, in order: for a service, the rules whose `from` names it; for "*", the
// rules for any caller (`from` "*", or none: plain text too, so that a "*" deny shuts the service as
// it does in Consul, where nothing reaches a service but through the mesh).
//   - one rule with no method or path: an L4 intention, its Action that rule's;
//   - otherwise L7 Permissions, each rule one permission; the last rule, when it has no method or
//     path and the policy's default action, is the fall-through Consul applies to requests no
//     permission matches and is not a permission of its own.
// Written, an intention replaces its source's rules with its own, placed by Consul's precedence: a
// named source's before the first rule for any caller, "*"'s (written without `from`) last.
// A policy the API makes for a service that had none allows what no rule denies (defaultAction ALLOW,
// Consul's default with ACLs off), so one deny intention takes nothing else away.
import { createHash } from "node:crypto";
import {
  ANY_MESH_CALLER,
  type AuthorizationAction,
  type AuthorizationRuleSpec,
  type AuthorizationSpec,
} from "../../../proto/authorization-rules";

export type ConsulAction = "allow" | "deny";

export interface ConsulPermission {
  Action: ConsulAction;
  HTTP: { PathExact?: string; PathPrefix?: string; Methods?: string[] };
}

/** What a caller writes: an L4 Action or L7 Permissions, and notes of its own. */
export interface IntentionWrite {
  Action?: ConsulAction;
  Permissions?: ConsulPermission[];
  /** Kept on the intention's first rule (its `description` and `meta`) and read back as written. */
  Description?: string;
  Meta?: Record<string, string>;
}

export interface Intention extends IntentionWrite {
  ID: string;
  SourceNS: string;
  SourceName: string;
  DestinationNS: string;
  DestinationName: string;
  SourcePartition: string;
  DestinationPartition: string;
  SourceType: "consul";
  Precedence: number;
  Description: string;
  Meta: Record<string, string>;
  CreatedAt: string;
  UpdatedAt: string;
  CreateIndex: number;
  ModifyIndex: number;
}

/** A stored AuthorizationPolicy, as the intentions are read from it. */
export interface PolicyView {
  name: string;
  spec: AuthorizationSpec;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const NAMESPACE = "default";

/** Consul's precedence of an intention to a named destination: a named source 9, "*" 8. */
export function precedenceOf(source: string): number {
  return source === ANY_MESH_CALLER ? 8 : 9;
}

/** A stable UUID-shaped ID for a source and destination (Consul's legacy endpoints address by ID). */
export function intentionId(source: string, destination: string): string {
  const h = createHash("sha256").update(`weft-intention\0${source}\0${destination}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function isHttpRule(r: AuthorizationRuleSpec): boolean {
  return (r.methods?.length ?? 0) > 0 || r.pathPrefix !== undefined || r.pathExact !== undefined;
}

const lower = (a: AuthorizationAction): ConsulAction => (a === "ALLOW" ? "allow" : "deny");
const upper = (a: ConsulAction): AuthorizationAction => (a === "allow" ? "ALLOW" : "DENY");

/** Whether a rule is one of `source`'s: it names it, or, for "*", it is for any caller. */
function isFor(r: AuthorizationRuleSpec, source: string): boolean {
  const from = r.from ?? [];
  return from.includes(source) || (source === ANY_MESH_CALLER && from.length === 0);
}

/** The sources a policy's rules are for, in the order they first appear. */
function sourcesOf(spec: AuthorizationSpec): string[] {
  return [...new Set(spec.rules.flatMap((r) => (r.from?.length ? r.from : [ANY_MESH_CALLER])))];
}

/** The intention `source` has in `p`, or undefined when no rule names it. */
export function intentionIn(p: PolicyView, source: string): Intention | undefined {
  const rules = p.spec.rules.map((r, i) => ({ r, i })).filter(({ r }) => isFor(r, source));
  if (rules.length === 0) return undefined;
  const fallback = p.spec.defaultAction ?? "DENY";
  const first = rules[0]!;
  let decided: IntentionWrite;
  if (!isHttpRule(first.r)) {
    decided = { Action: lower(first.r.action) };
  } else {
    const permissions: ConsulPermission[] = [];
    for (const [k, { r }] of rules.entries()) {
      if (!isHttpRule(r)) {
        // A rule for every request of this caller ends the list: the default's own is Consul's
        // fall-through; another action is a permission for every path.
        if (!(k === rules.length - 1 && r.action === fallback))
          permissions.push({ Action: lower(r.action), HTTP: { PathPrefix: "/" } });
        break;
      }
      permissions.push({
        Action: lower(r.action),
        HTTP: {
          ...(r.pathExact !== undefined ? { PathExact: r.pathExact } : {}),
          ...(r.pathPrefix !== undefined ? { PathPrefix: r.pathPrefix } : {}),
          ...(r.methods?.length ? { Methods: [...r.methods] } : {}),
        },
      });
    }
    decided = { Permissions: permissions };
  }
  return {
    ID: intentionId(source, p.spec.service),
    SourceNS: NAMESPACE,
    SourceName: source,
    DestinationNS: NAMESPACE,
    DestinationName: p.spec.service,
    SourcePartition: NAMESPACE,
    DestinationPartition: NAMESPACE,
    SourceType: "consul",
    ...decided,
    Precedence: precedenceOf(source),
    // As written (Terraform compares what it reads with what it wrote, so nothing is made up here).
    Description: first.r.description ?? "",
    Meta: { ...first.r.meta },
    CreatedAt: p.createdAt,
    UpdatedAt: p.updatedAt,
    CreateIndex: p.version,
    ModifyIndex: p.version,
  };
}

/** Every intention a policy holds, in Consul's order: precedence, then source name. */
export function intentionsOf(p: PolicyView): Intention[] {
  return sortIntentions(sourcesOf(p.spec).flatMap((s) => intentionIn(p, s) ?? []));
}

export function sortIntentions(list: Intention[]): Intention[] {
  return list.sort(
    (a, b) =>
      b.Precedence - a.Precedence ||
      a.DestinationName.localeCompare(b.DestinationName) ||
      a.SourceName.localeCompare(b.SourceName),
  );
}

/** `spec` without `source`'s rules; a rule also for other callers stays theirs. */
export function withoutSource(spec: AuthorizationSpec, source: string): AuthorizationSpec {
  const rules: AuthorizationRuleSpec[] = [];
  for (const r of spec.rules) {
    if (!isFor(r, source)) {
      rules.push(r);
      continue;
    }
    // Never an empty `from`: that would be a rule for every caller.
    const from = (r.from ?? []).filter((f) => f !== source);
    if (from.length > 0) rules.push({ ...r, from });
  }
  return { ...spec, rules };
}

/**
 * `spec` (undefined: the service has no policy; one is made that allows what no rule denies) with
 * `source`'s intention set to `write`, which must hold exactly one of Action and Permissions.
 */
export function withIntention(
  spec: AuthorizationSpec | undefined,
  service: string,
  source: string,
  write: IntentionWrite,
): AuthorizationSpec {
  const base = withoutSource(spec ?? { service, rules: [], defaultAction: "ALLOW" }, source);
  const from = source === ANY_MESH_CALLER ? {} : { from: [source] };
  const added: AuthorizationRuleSpec[] = write.Action
    ? [{ action: upper(write.Action), ...from }]
    : [
        ...(write.Permissions ?? []).map(
          (p): AuthorizationRuleSpec => ({
            action: upper(p.Action),
            ...from,
            ...(p.HTTP.Methods?.length ? { methods: p.HTTP.Methods.map((m) => m.toUpperCase()) } : {}),
            ...(p.HTTP.PathPrefix !== undefined ? { pathPrefix: p.HTTP.PathPrefix } : {}),
            ...(p.HTTP.PathExact !== undefined ? { pathExact: p.HTTP.PathExact } : {}),
          }),
        ),
        // What no permission matches gets the default, not a less specific intention's action.
        { action: base.defaultAction ?? "DENY", ...from },
      ];
  const notes = {
    ...(write.Description ? { description: write.Description } : {}),
    ...(write.Meta && Object.keys(write.Meta).length > 0 ? { meta: write.Meta } : {}),
  };
  added[0] = { ...added[0]!, ...notes };
  const at = insertionPoint(base.rules, source);
  return { ...base, rules: [...base.rules.slice(0, at), ...added, ...base.rules.slice(at)] };
}

/** Where `source`'s rules go: a named source's before the first rule for any caller, "*"'s last. */
function insertionPoint(rules: AuthorizationRuleSpec[], source: string): number {
  if (source === ANY_MESH_CALLER) return rules.length;
  const at = rules.findIndex((r) => isFor(r, ANY_MESH_CALLER));
  return at < 0 ? rules.length : at;
}

/** True when a policy says no more than having none: no rules, everything allowed. */
export function allowsEverything(spec: AuthorizationSpec): boolean {
  return spec.rules.length === 0 && spec.defaultAction === "ALLOW";
}

/**
 * `spec` (undefined: none yet, made as withIntention makes it) holding exactly these sources'
 * intentions, placed by precedence whatever their order: Consul's service-intentions entry, the
 * whole set for one destination.
 */
export function withSources(
  spec: AuthorizationSpec | undefined,
  service: string,
  sources: Array<{ source: string; write: IntentionWrite }>,
): AuthorizationSpec {
  let next: AuthorizationSpec = { ...(spec ?? { service, rules: [], defaultAction: "ALLOW" }), rules: [] };
  for (const { source, write } of sources) next = withIntention(next, service, source, write);
  return next;
}
