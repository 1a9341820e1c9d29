// What Consul's intention requests carry, checked: the source and destination names of a query, and
// an intention's Action or L7 Permissions from a body (intentions-routes.ts, config-entries.ts).
import { ANY_MESH_CALLER, notesProblem } from "../../../proto/authorization-rules";
import { HttpError } from "../api/respond";
import { isServiceName } from "../registration/validate";
import type { ConsulAction, ConsulPermission, IntentionWrite } from "./intentions";

/** A name from the query: SERVICE, "*", or NAMESPACE/SERVICE with Consul's default namespace. */
export function nameParam(query: URLSearchParams, param: string, wildcard: boolean): string {
  const value = query.get(param);
  if (value === null || value === "") throw new HttpError(400, `required query parameter '${param}' not set`);
  const slash = value.indexOf("/");
  const ns = slash < 0 ? "default" : value.slice(0, slash);
  const name = slash < 0 ? value : value.slice(slash + 1);
  if (ns !== "default")
    throw new HttpError(
      400,
      `${param} "${value}": weft has one namespace, "default"; leave the namespace out`,
    );
  if (name === ANY_MESH_CALLER) {
    if (wildcard) return name;
    throw new HttpError(
      400,
      `${param} "*": weft keeps one AuthorizationPolicy per service, so an intention names its destination; write one for each service`,
    );
  }
  if (!isServiceName(name))
    throw new HttpError(
      400,
      `${param} "${value}" is not a service name (letters, digits, '-', '_', '.'; at most 63)`,
    );
  return name;
}

const ACTIONS: readonly ConsulAction[] = ["allow", "deny"];

function action(value: unknown, field: string): ConsulAction {
  const a = typeof value === "string" ? value.toLowerCase() : "";
  if (!ACTIONS.includes(a as ConsulAction))
    throw new HttpError(400, `${field} must be "allow" or "deny", got ${JSON.stringify(value ?? null)}`);
  return a as ConsulAction;
}

function permission(value: unknown, i: number): ConsulPermission {
  const field = `Permissions[${i}]`;
  if (typeof value !== "object" || value === null) throw new HttpError(400, `${field} must be an object`);
  const p = value as { Action?: unknown; HTTP?: unknown };
  const act = action(p.Action, `${field}.Action`);
  if (typeof p.HTTP !== "object" || p.HTTP === null)
    throw new HttpError(400, `${field}.HTTP is required: PathExact, PathPrefix and/or Methods`);
  const h = p.HTTP as Record<string, unknown>;
  if (h.PathRegex !== undefined && h.PathRegex !== "")
    throw new HttpError(
      400,
      `${field}.HTTP.PathRegex is not supported: weft matches a path by PathExact or PathPrefix`,
    );
  if (Array.isArray(h.Header) && h.Header.length > 0)
    throw new HttpError(
      400,
      `${field}.HTTP.Header is not supported: weft authorizes by caller, method and path`,
    );
  const str = (k: string) => {
    const v = h[k];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw new HttpError(400, `${field}.HTTP.${k} must be a string`);
    return v;
  };
  const PathExact = str("PathExact");
  const PathPrefix = str("PathPrefix");
  if (PathExact !== undefined && PathPrefix !== undefined)
    throw new HttpError(400, `${field}.HTTP: PathExact and PathPrefix together; give one`);
  let Methods: string[] | undefined;
  if (h.Methods !== undefined && h.Methods !== null) {
    if (!Array.isArray(h.Methods) || h.Methods.some((m) => typeof m !== "string"))
      throw new HttpError(400, `${field}.HTTP.Methods must be a list of method names`);
    Methods = (h.Methods as string[]).map((m) => m.toUpperCase());
  }
  if (PathExact === undefined && PathPrefix === undefined && !Methods?.length)
    throw new HttpError(400, `${field}.HTTP matches nothing: give PathExact, PathPrefix or Methods`);
  return {
    Action: act,
    HTTP: {
      ...(PathExact !== undefined ? { PathExact } : {}),
      ...(PathPrefix !== undefined ? { PathPrefix } : {}),
      ...(Methods?.length ? { Methods } : {}),
    },
  };
}

/** An intention's Action or Permissions from a request body (one, never both). */
export function intentionWrite(body: unknown): IntentionWrite {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new HttpError(400, "the body must be an intention: a JSON object with Action or Permissions");
  const b = body as {
    SourceType?: unknown;
    Action?: unknown;
    Permissions?: unknown;
    Description?: unknown;
    Meta?: unknown;
  };
  if (b.SourceType !== undefined && b.SourceType !== "" && b.SourceType !== "consul")
    throw new HttpError(400, `SourceType must be "consul", got ${JSON.stringify(b.SourceType)}`);
  const hasPermissions = Array.isArray(b.Permissions) && b.Permissions.length > 0;
  const hasAction = b.Action !== undefined && b.Action !== null && b.Action !== "";
  if (hasPermissions && hasAction)
    throw new HttpError(400, "Action must be empty when Permissions are given (each permission has its own)");
  const notes = intentionNotes(b.Description, b.Meta);
  if (hasPermissions) return { Permissions: (b.Permissions as unknown[]).map(permission), ...notes };
  if (b.Permissions !== undefined && b.Permissions !== null && !Array.isArray(b.Permissions))
    throw new HttpError(400, "Permissions must be a list");
  return { Action: action(b.Action, "Action"), ...notes };
}

/** Description and Meta, kept as written, within the bounds a rule's notes have (Consul's on Meta). */
export function intentionNotes(
  description: unknown,
  meta: unknown,
): Pick<IntentionWrite, "Description" | "Meta"> {
  if (description !== undefined && description !== null && typeof description !== "string")
    throw new HttpError(400, "Description must be a string");
  if (meta !== undefined && meta !== null && (typeof meta !== "object" || Array.isArray(meta)))
    throw new HttpError(400, "Meta must be an object of string values");
  const entries = Object.entries((meta ?? {}) as Record<string, unknown>);
  for (const [k, v] of entries)
    if (typeof v !== "string") throw new HttpError(400, `Meta["${k}"] must be a string`);
  const out: Pick<IntentionWrite, "Description" | "Meta"> = {};
  if (description) out.Description = description;
  if (entries.length > 0) out.Meta = Object.fromEntries(entries) as Record<string, string>;
  const problem = notesProblem(out.Description, out.Meta, { description: "Description", meta: "Meta" });
  if (problem) throw new HttpError(400, problem);
  return out;
}
