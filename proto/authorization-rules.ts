// Who may call a service: config.proto's AuthorizationPolicySpec, checked on both sides of the
// contract (the control plane refuses a policy that breaks these rules, a sidecar NACKs a push that
// does), and the one decision both need. It is Istio's AuthorizationPolicy and Consul's intentions
// in one ordered list: the first rule that matches a request decides, and a request no rule
// matches gets the default, DENY unless the policy says ALLOW. Callers are told apart by the
// service in their mutual TLS certificate (proto/mtls-mode.ts): a plain-text caller has none.

import { URI_PATH } from "./rewrite-rules";
import { isServiceName } from "./service-name";

export type AuthorizationAction = "ALLOW" | "DENY";
export const AUTHORIZATION_ACTIONS: readonly AuthorizationAction[] = ["ALLOW", "DENY"];

/** As an AuthorizationPolicy spells it (camelCase). */
export interface AuthorizationRuleSpec {
  action: AuthorizationAction;
  /**
   * The callers: service names, or "*" for any caller with a mesh identity. Absent or empty: any
   * caller, plain text included.
   */
  from?: string[];
  /** HTTP only: upper-case methods; absent: any. */
  methods?: string[];
  /** HTTP only, at most one of the two: the path (without query) starts with, or is. */
  pathPrefix?: string;
  pathExact?: string;
  /**
   * Notes for the people and tools that wrote the rule (Consul intentions' Description and Meta
   * are kept here): the control plane stores and returns them, and sidecars never get them.
   */
  description?: string;
  meta?: Record<string, string>;
}

export interface AuthorizationSpec {
  service: string;
  rules: AuthorizationRuleSpec[];
  /** What a request no rule matches gets. Absent: DENY (a policy lists who may call). */
  defaultAction?: AuthorizationAction;
  /** Notes on the whole policy (a Consul service-intentions entry's Meta): the control plane's
   * only, never pushed to sidecars. */
  meta?: Record<string, string>;
}

export const ANY_MESH_CALLER = "*";
export const MAX_AUTHORIZATION_RULES = 64;
const MAX_NAMES = 256;
const METHOD = /^[A-Z][A-Z0-9_-]{0,19}$/;
const MAX_PATH_LENGTH = 1024;
/** Consul's bounds on an intention's Meta (structs.validateMetadata), and one for Description. */
const MAX_RULE_DESCRIPTION = 1024;
const MAX_RULE_META_PAIRS = 64;
const MAX_RULE_META_KEY = 128;
const MAX_RULE_META_VALUE = 512;

/** What is wrong with a policy's rules and default, or undefined. */
export function authorizationProblem(spec: AuthorizationSpec): string | undefined {
  if (spec.defaultAction !== undefined && !AUTHORIZATION_ACTIONS.includes(spec.defaultAction))
    return `defaultAction must be ALLOW or DENY, got "${spec.defaultAction}"`;
  if (spec.rules.length > MAX_AUTHORIZATION_RULES)
    return `at most ${MAX_AUTHORIZATION_RULES} rules, got ${spec.rules.length}`;
  const notes = notesProblem(undefined, spec.meta);
  if (notes) return notes;
  for (const [i, rule] of spec.rules.entries()) {
    const problem = ruleProblem(rule);
    if (problem) return `rules[${i}]: ${problem}`;
  }
  return undefined;
}

function ruleProblem(r: AuthorizationRuleSpec): string | undefined {
  if (!AUTHORIZATION_ACTIONS.includes(r.action)) return `action must be ALLOW or DENY, got "${r.action}"`;
  const from = r.from ?? [];
  if (from.length > MAX_NAMES) return `from lists at most ${MAX_NAMES} callers`;
  for (const name of from) {
    if (name !== ANY_MESH_CALLER && !isServiceName(name))
      return `from: "${name}" is neither a service name nor "*" (any caller with a mesh identity)`;
  }
  for (const m of r.methods ?? []) {
    if (!METHOD.test(m)) return `methods: "${m}" is not an HTTP method (upper case, e.g. GET)`;
  }
  if (r.pathPrefix !== undefined && r.pathExact !== undefined)
    return "pathPrefix and pathExact together: give one";
  const path = r.pathPrefix ?? r.pathExact;
  if (path !== undefined && (!URI_PATH.test(path) || path.length > MAX_PATH_LENGTH))
    return `path "${path}" must start with "/" and hold only characters a request path may (at most ${MAX_PATH_LENGTH})`;
  return notesProblem(r.description, r.meta);
}

/** What is wrong with a rule's notes, naming them as the caller spells them (a policy's
 * `description`/`meta`, an intention's `Description`/`Meta`), or undefined. */
export function notesProblem(
  description: string | undefined,
  meta: Record<string, string> | undefined,
  names = { description: "description", meta: "meta" },
): string | undefined {
  if (description !== undefined && description.length > MAX_RULE_DESCRIPTION)
    return `${names.description} is longer than ${MAX_RULE_DESCRIPTION} characters`;
  const pairs = Object.entries(meta ?? {});
  if (pairs.length > MAX_RULE_META_PAIRS)
    return `${names.meta} holds at most ${MAX_RULE_META_PAIRS} pairs, got ${pairs.length}`;
  for (const [k, v] of pairs) {
    if (k === "" || k.length > MAX_RULE_META_KEY)
      return `${names.meta} key "${k.slice(0, 40)}" must be 1 to ${MAX_RULE_META_KEY} characters`;
    if (v.length > MAX_RULE_META_VALUE)
      return `${names.meta}["${k}"] is longer than ${MAX_RULE_META_VALUE} characters`;
  }
  return undefined;
}

/** A policy as sidecars get it: its notes and its rules' (description, meta) are the control plane's only. */
export function enforcedSpec(spec: AuthorizationSpec): AuthorizationSpec {
  const { meta: _meta, ...enforced } = spec;
  return { ...enforced, rules: spec.rules.map(({ description: _d, meta: _m, ...rule }) => rule) };
}

/** The service a mesh identity names (spiffe://DOMAIN/ns/NS/svc/NAME), or undefined. */
export function callerService(identity: string | undefined): string | undefined {
  if (!identity) return undefined;
  return /^spiffe:\/\/[^/]+\/ns\/[^/]+\/svc\/([^/]+)$/.exec(identity)?.[1];
}

export interface AuthorizationDecision {
  allowed: boolean;
  /** Which rule decided ("rules[2]"), or "defaultAction". */
  by: string;
}

/**
 * The decision for one request (`request` absent: an opaque TCP connection) from `caller` (the
 * service in its certificate; undefined for plain text). On a TCP connection a rule naming methods
 * or paths cannot be checked: an ALLOW rule then does not match, a DENY rule matches on its callers
 * alone, so such a rule never lets more through than it says (Istio does the same).
 */
export function authorize(
  spec: AuthorizationSpec,
  caller: string | undefined,
  request?: { method: string; path: string },
): AuthorizationDecision {
  for (const [i, rule] of spec.rules.entries()) {
    if (matches(rule, caller, request)) return { allowed: rule.action === "ALLOW", by: `rules[${i}]` };
  }
  return { allowed: spec.defaultAction === "ALLOW", by: "defaultAction" };
}

function matches(
  rule: AuthorizationRuleSpec,
  caller: string | undefined,
  request: { method: string; path: string } | undefined,
): boolean {
  const from = rule.from ?? [];
  if (from.length > 0) {
    if (caller === undefined) return false;
    if (!from.includes(ANY_MESH_CALLER) && !from.includes(caller)) return false;
  }
  const httpOnly =
    (rule.methods?.length ?? 0) > 0 || rule.pathPrefix !== undefined || rule.pathExact !== undefined;
  if (!request) return !httpOnly || rule.action === "DENY";
  if (rule.methods?.length && !rule.methods.includes(request.method)) return false;
  const q = request.path.indexOf("?");
  const path = q < 0 ? request.path : request.path.slice(0, q);
  if (rule.pathExact !== undefined && path !== rule.pathExact) return false;
  if (rule.pathPrefix !== undefined && !path.startsWith(rule.pathPrefix)) return false;
  return true;
}
