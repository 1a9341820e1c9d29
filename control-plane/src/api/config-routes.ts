// REST for mesh config (docs/INTERFACES.md "Config objects"):
//   GET  /api/v1/config/{kind}                 every object of a kind (services, routes, resiliencepolicies, telemetries)
//   GET|PUT|DELETE /api/v1/config/{kind}/{name}
//   GET  /api/v1/config/{kind}/{name}/history  every version, oldest first
//   POST /api/v1/config/apply[?dryRun=All]     a list of documents, all or nothing (or only checked)
// Errors are {error, field?, allowed?, document?} with 400, 404, 409 (stale metadata.version) or 413.
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  CONFIG_KINDS,
  ConfigError,
  type ConfigKind,
  ConfigValidationError,
  kindFromPlural,
  type ParsedDocument,
  parseDocuments,
  pluralOf,
  type SqliteConfigStore,
} from "../config/index";
import { readBody } from "./request-body";
import { HttpError, sendJson } from "./respond";

const STATUS: Record<ConfigError["code"], number> = {
  INVALID_CONFIG: 400,
  BAD_DOCUMENT: 400,
  CONFIG_NOT_FOUND: 404,
  VERSION_CONFLICT: 409,
};

/** The body as documents: JSON by Content-Type or first character, else multi-document YAML. */
async function readDocuments(req: IncomingMessage): Promise<ParsedDocument[]> {
  const body = await readBody(req); // 413 beyond 1 MiB
  if (body.text.trim() === "") {
    throw new ConfigError("BAD_DOCUMENT", "the request body is empty; send documents as JSON or YAML");
  }
  return parseDocuments(body.text, { json: String(req.headers["content-type"] ?? "").includes("json") });
}

const PLURALS = CONFIG_KINDS.map(pluralOf).join(", ");

/** Answers a request under /api/v1/config; `path` is what follows "config". Never throws. */
export async function handleConfigRequest(
  store: SqliteConfigStore,
  req: IncomingMessage,
  res: ServerResponse,
  path: string[],
  query: URLSearchParams,
): Promise<void> {
  try {
    await route(store, req, res, path, query);
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      sendJson(res, 400, {
        error: err.message,
        field: err.field,
        allowed: err.allowed,
        document: err.document,
      });
    } else if (err instanceof ConfigError) {
      sendJson(res, STATUS[err.code], { error: err.message });
    } else if (!(err instanceof Handled)) {
      throw err;
    }
  }
}

/** `?dryRun=All` (Kubernetes' spelling), `true` or `1`: check and answer, store nothing. */
function dryRunOf(query: URLSearchParams): boolean {
  const v = query.get("dryRun");
  if (v === null || v === "" || v === "false" || v === "0") return false;
  if (v === "All" || v === "true" || v === "1") return true;
  throw new HttpError(400, `dryRun is "All" (or true) to check without storing, got "${v}"`);
}

async function route(
  store: SqliteConfigStore,
  req: IncomingMessage,
  res: ServerResponse,
  path: string[],
  query: URLSearchParams,
): Promise<void> {
  const method = req.method ?? "GET";
  if (path.length === 1 && path[0] === "apply") {
    allow(res, method, ["POST"], "/api/v1/config/apply");
    const dryRun = dryRunOf(query);
    const docs = await readDocuments(req);
    sendJson(res, 200, {
      results: store.apply(
        docs.map((d) => d.value),
        { dryRun },
      ),
      dryRun,
    });
    return;
  }
  const [plural, name, sub, ...extra] = path;
  const kind = plural === undefined ? undefined : kindFromPlural(plural);
  if (!kind || extra.length > 0 || (sub !== undefined && sub !== "history")) {
    throw new ConfigError(
      "CONFIG_NOT_FOUND",
      `no config route for ${method} /api/v1/config/${path.join("/")}; kinds are ${PLURALS} (GET /api/v1/config/KIND[/NAME[/history]], POST /api/v1/config/apply)`,
    );
  }
  if (name === undefined) {
    allow(res, method, ["GET"], `/api/v1/config/${plural}`);
    sendJson(res, 200, store.list(kind));
    return;
  }
  if (sub === "history") {
    allow(res, method, ["GET"], `/api/v1/config/${plural}/${name}/history`);
    sendJson(res, 200, store.history(kind, name));
    return;
  }
  allow(res, method, ["GET", "PUT", "DELETE"], `/api/v1/config/${plural}/${name}`);
  if (method === "GET" || method === "HEAD") {
    const object = store.get(kind, name);
    if (!object)
      throw new ConfigError(
        "CONFIG_NOT_FOUND",
        `${kind} "${name}" not found; list them with 'weft get ${plural}' (GET /api/v1/config/${plural})`,
      );
    sendJson(res, 200, object);
  } else if (method === "PUT") {
    const docs = await readDocuments(req);
    if (docs.length !== 1) {
      throw new ConfigError(
        "BAD_DOCUMENT",
        `PUT takes one document, got ${docs.length}; send several with POST /api/v1/config/apply`,
      );
    }
    const [result] = store.apply([withPath(docs[0]!.value, kind, name)]);
    sendJson(res, result!.action === "created" ? 201 : 200, { result, object: store.get(kind, name) });
  } else {
    const result = store.delete(kind, name, expectedVersion(query));
    sendJson(res, 200, { result });
  }
}

function allow(res: ServerResponse, method: string, methods: string[], path: string): void {
  const accepted = methods.includes("GET") ? [...methods, "HEAD"] : methods;
  if (accepted.includes(method)) return;
  res.setHeader("Allow", accepted.join(", "));
  sendJson(res, 405, { error: `${method} is not supported on ${path}; use ${methods.join(" or ")}` });
  throw new Handled();
}

/** Thrown after a response was already sent; the caller stops. */
class Handled extends Error {}

/** PUT's path names the object; the body may leave kind and name out but must not contradict them. */
function withPath(value: unknown, kind: ConfigKind, name: string): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const doc = { ...(value as Record<string, unknown>) };
  doc.kind ??= kind;
  const meta = doc.metadata;
  if (meta === undefined || meta === null) doc.metadata = { name };
  else if (typeof meta === "object" && !Array.isArray(meta)) doc.metadata = { name, ...(meta as object) };
  if (doc.kind !== kind) {
    throw new ConfigValidationError(
      "kind",
      `kind is ${JSON.stringify(doc.kind)} but the path is for a ${kind}`,
      kind,
    );
  }
  const bodyName = (doc.metadata as { name?: unknown }).name;
  if (bodyName !== name) {
    throw new ConfigValidationError(
      "metadata.name",
      `metadata.name is ${JSON.stringify(bodyName)} but the path names "${name}"`,
      name,
    );
  }
  return doc;
}

function expectedVersion(query: URLSearchParams): number | undefined {
  const v = query.get("version");
  if (v === null || v === "") return undefined;
  if (!/^[1-9]\d{0,14}$/.test(v))
    throw new ConfigValidationError(
      "version",
      `version must be a positive integer, got "${v}"`,
      "a positive integer",
    );
  return Number(v);
}
