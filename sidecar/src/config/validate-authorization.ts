// The wire's NamedAuthorization (a service's AuthorizationPolicy, inside its ServicePolicy): proto3
// leaves "" and [] for what is not set; absent there, absent here. What the fields may hold
// together is proto/authorization-rules.ts's, as the control plane checks it.
import {
  type AuthorizationAction,
  type AuthorizationRuleSpec,
  type AuthorizationSpec,
  authorizationProblem,
} from "../../../proto/authorization-rules";
import type { AuthorizationConfig } from "./types";
import { bad, object, str } from "./validate";

export function parseAuthorization(value: unknown, path: string, service: string): AuthorizationConfig {
  const o = object(value, path);
  const s = object(o.spec ?? {}, `${path}.spec`);
  const strings = (v: unknown, p: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) bad(`${p} must be a list`);
    return v.map((x, i) => str(x, `${p}[${i}]`));
  };
  const rules = (s.rules === undefined || s.rules === null ? [] : s.rules) as unknown;
  if (!Array.isArray(rules)) bad(`${path}.spec.rules must be a list`);
  const spec: AuthorizationSpec = {
    service,
    rules: rules.map((v, i): AuthorizationRuleSpec => {
      const p = `${path}.spec.rules[${i}]`;
      const r = object(v, p);
      const from = strings(r.from, `${p}.from`);
      const methods = strings(r.methods, `${p}.methods`);
      return {
        action: str(r.action ?? "", `${p}.action`) as AuthorizationAction,
        ...(from.length ? { from } : {}),
        ...(methods.length ? { methods } : {}),
        ...(r.path_prefix ? { pathPrefix: str(r.path_prefix, `${p}.path_prefix`) } : {}),
        ...(r.path_exact ? { pathExact: str(r.path_exact, `${p}.path_exact`) } : {}),
      };
    }),
    ...(s.default_action
      ? { defaultAction: str(s.default_action, `${path}.spec.default_action`) as AuthorizationAction }
      : {}),
  };
  const problem = authorizationProblem(spec);
  if (problem) bad(`${path}.spec: ${problem}`);
  return { name: str(o.name ?? "", `${path}.name`), spec };
}
