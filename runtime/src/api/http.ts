// Small HTTP helpers for the Engine API: JSON bodies in and out, errors as Docker sends them
// ({"message": "..."} with 400/404/409/500).
import type { IncomingMessage, ServerResponse } from "node:http";
import { httpStatusOf, RuntimeError } from "../errors";

const MAX_BODY_BYTES = 1024 * 1024;

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new RuntimeError("INVALID_ARGUMENT", `body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RuntimeError("INVALID_ARGUMENT", `body is not valid JSON: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): number {
  const status = httpStatusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (!res.headersSent) sendJson(res, status, { message });
  else res.destroy();
  return status;
}

/** A query flag: "1"/"true" → true, "0"/"false"/absent → fallback; anything else names the parameter. */
export function queryBool(query: URLSearchParams, name: string, fallback = false): boolean {
  const v = query.get(name);
  if (v === null || v === "") return fallback;
  if (v === "1" || v === "true") return true;
  if (v === "0" || v === "false") return false;
  throw new RuntimeError("INVALID_ARGUMENT", `${name} must be 1, 0, true or false, got "${v}"`);
}
