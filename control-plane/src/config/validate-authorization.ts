// The AuthorizationPolicy spec, checked field by field; what the fields may hold together is in
// proto/authorization-rules.ts, which the sidecars check too.
import {
  AUTHORIZATION_ACTIONS,
  type AuthorizationRuleSpec,
  type AuthorizationSpec,
  authorizationProblem,
} from "../../../proto/authorization-rules";
import { invalid } from "./errors";
import { compact, isAbsent, list, object, oneOf, optionalString, string, stringMap } from "./validate-fields";
import { serviceRef } from "./validate-specs";

export function authorizationPolicySpec(value: unknown): AuthorizationSpec {
  const o = object(value, "spec", ["service", "rules", "defaultAction", "meta"]);
  const service = serviceRef(o.service, "spec.service");
  const rules = isAbsent(o.rules)
    ? []
    : list(o.rules, "spec.rules").map((r, i) => rule(r, `spec.rules[${i}]`));
  const defaultAction = isAbsent(o.defaultAction)
    ? undefined
    : oneOf(String(o.defaultAction).toUpperCase(), "spec.defaultAction", AUTHORIZATION_ACTIONS);
  const meta = notes(o.meta, "spec.meta");
  const spec = compact({ service, rules, defaultAction, meta }) as AuthorizationSpec;
  const problem = authorizationProblem(spec);
  if (problem) invalid("spec", "rules a sidecar can enforce", `spec: ${problem}`);
  return spec;
}

function rule(value: unknown, field: string): AuthorizationRuleSpec {
  const o = object(value, field, [
    "action",
    "from",
    "methods",
    "pathPrefix",
    "pathExact",
    "description",
    "meta",
  ]);
  if (isAbsent(o.action))
    invalid(`${field}.action`, "ALLOW or DENY", `${field}.action is required: ALLOW or DENY`);
  const strings = (v: unknown, f: string) =>
    isAbsent(v) ? undefined : list(v, f).map((x, i) => string(x, `${f}[${i}]`));
  return compact({
    action: oneOf(String(o.action).toUpperCase(), `${field}.action`, AUTHORIZATION_ACTIONS),
    from: strings(o.from, `${field}.from`),
    methods: strings(o.methods, `${field}.methods`)?.map((m) => m.toUpperCase()),
    pathPrefix: optionalString(o.pathPrefix, `${field}.pathPrefix`),
    pathExact: optionalString(o.pathExact, `${field}.pathExact`),
    description: optionalString(o.description, `${field}.description`) || undefined,
    meta: notes(o.meta, `${field}.meta`),
  }) as AuthorizationRuleSpec;
}

/** A policy's or a rule's meta: any non-empty key (Consul's Meta keys are free-form), empty maps left out. */
function notes(value: unknown, field: string): Record<string, string> | undefined {
  const map = stringMap(value, field, /^.+$/s, "at least one character");
  return map && Object.keys(map).length > 0 ? map : undefined;
}
