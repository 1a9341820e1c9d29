// Consul's KV HTTP API on the control plane, for clients written against Consul (the npm `consul`
// client, consul-template, Spring Cloud Consul Config):
//   GET    /v1/kv/KEY[?recurse][?keys[&separator=S]][?raw][&index=N&wait=D]
//   PUT    /v1/kv/KEY[?flags=N][?cas=M]     body: the value (any bytes, at most 512 KiB) -> true|false
//   DELETE /v1/kv/KEY[?recurse][?cas=M]     -> true|false
// Entries come back as Consul's [{LockIndex, Key, Flags, Value (base64), CreateIndex, ModifyIndex}];
// a key that is not there is a 404 with an empty body. Every answer carries X-Consul-Index, the KV
// store's index, which ?index= blocks on. Sessions (acquire, release) are not supported: a 400 says so.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type KvEntry, MAX_KEY_LENGTH, MAX_VALUE_BYTES, type SqliteKv } from "../kv/kv-store";
import { DEFAULT_WAIT_MS, parseIndex, parseWait, waitForIndex } from "./blocking";
import { consulFlag, consulHeaders } from "./consul";
import { readBody } from "./request-body";
import { HttpError, sendJson } from "./respond";

const MAX_FLAGS = Number.MAX_SAFE_INTEGER;

function entryJson(e: KvEntry) {
  return {
    LockIndex: 0,
    Key: e.key,
    Flags: e.flags,
    Value: e.value.length > 0 ? e.value.toString("base64") : null,
    CreateIndex: e.createIndex,
    ModifyIndex: e.modifyIndex,
  };
}

/** A whole number from the query, at most `max`; undefined when absent; a 400 naming it otherwise. */
function whole(query: URLSearchParams, name: string, max: number): number | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  if (!/^\d{1,16}$/.test(v) || Number(v) > max)
    throw new HttpError(400, `${name} must be a whole number from 0 to ${max}, got "${v}"`);
  return Number(v);
}

/** Serves /v1/kv/...; `key` is the path after /v1/kv/, decoded. */
export async function handleKv(
  kv: SqliteKv,
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
  query: URLSearchParams,
  closing: AbortSignal,
): Promise<void> {
  if (key.length > MAX_KEY_LENGTH)
    throw new HttpError(
      400,
      `the key is ${key.length} characters long; at most ${MAX_KEY_LENGTH} are accepted`,
    );
  if (query.has("acquire") || query.has("release"))
    throw new HttpError(400, "Consul sessions (acquire, release) are not supported by weft's KV store");
  const method = req.method === "HEAD" ? "GET" : req.method;
  if (method === "GET") return get(kv, res, key, query, closing);
  if (method === "PUT") {
    if (key === "") throw new HttpError(400, "Missing key name: PUT /v1/kv/KEY");
    const flags = whole(query, "flags", MAX_FLAGS) ?? 0;
    const cas = whole(query, "cas", MAX_FLAGS);
    const body = await readBody(req, MAX_VALUE_BYTES);
    return sendJson(res, 200, kv.put(key, body.bytes, flags, cas), consulHeaders(kv.index()));
  }
  if (method === "DELETE") {
    const recurse = consulFlag(query, "recurse");
    if (key === "" && !recurse)
      throw new HttpError(400, "Missing key name: DELETE /v1/kv/KEY (or ?recurse for a whole tree)");
    const cas = whole(query, "cas", MAX_FLAGS);
    if (cas !== undefined && recurse) throw new HttpError(400, "cas applies to one key, not with ?recurse");
    return sendJson(res, 200, kv.delete(key, { recurse, cas }), consulHeaders(kv.index()));
  }
  res.setHeader("Allow", "GET, PUT, DELETE");
  throw new HttpError(405, `${req.method} is not supported on /v1/kv; use GET, PUT or DELETE`);
}

async function get(
  kv: SqliteKv,
  res: ServerResponse,
  key: string,
  query: URLSearchParams,
  closing: AbortSignal,
): Promise<void> {
  const index = query.get("index");
  if (index !== null) {
    const wait = query.get("wait");
    const gone = new AbortController();
    res.on("close", () => gone.abort());
    await waitForIndex(
      kv,
      parseIndex(index),
      wait === null ? DEFAULT_WAIT_MS : parseWait(wait),
      AbortSignal.any([gone.signal, closing]),
    );
    if (res.destroyed) return;
  }
  const headers = consulHeaders(kv.index());
  if (query.has("keys")) {
    const keys = kv.keys(key, query.get("separator") ?? "");
    if (keys.length === 0) return notFound(res, headers);
    return sendJson(res, 200, keys, headers);
  }
  const entries = consulFlag(query, "recurse") ? kv.list(key) : [kv.get(key)].filter((e) => e !== undefined);
  if (entries.length === 0) return notFound(res, headers);
  if (consulFlag(query, "raw")) {
    const value = (entries[0] as KvEntry).value;
    res.writeHead(200, {
      ...headers,
      "Content-Type": "application/octet-stream",
      "Content-Length": value.length,
    });
    return void res.end(value);
  }
  sendJson(res, 200, entries.map(entryJson), headers);
}

function notFound(res: ServerResponse, headers: Record<string, string>): void {
  res.writeHead(404, { ...headers, "Content-Length": 0 });
  res.end();
}
