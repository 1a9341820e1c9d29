// Reading request bodies safely: a size cap (a huge body is refused with 413 before it fills memory)
// and JSON parsing that answers 400 with the parser's reason instead of throwing.
import type { IncomingMessage } from "node:http";
import { HttpError } from "./respond";

/** Bodies above this are refused; config documents and Consul registrations are far smaller. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface RequestBody {
  /** The raw body as UTF-8; "" when none was sent. */
  text: string;
  /** The raw bytes (a Consul KV value may be any). */
  bytes: Buffer;
  /** The body parsed as JSON; throws a 400 with the reason when it is not JSON. `fallback` for an empty body. */
  json(fallback?: unknown): unknown;
}

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<RequestBody> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new HttpError(413, `the body is ${declared} bytes; at most ${limit} are accepted`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, `the body is over ${limit} bytes; send a smaller one`);
    }
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  const text = bytes.toString("utf8");
  return {
    text,
    bytes,
    json(fallback?: unknown) {
      if (text.trim() === "") {
        if (fallback !== undefined) return fallback;
        throw new HttpError(400, "the request needs a JSON body");
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw new HttpError(400, `the body is not valid JSON: ${(err as Error).message}`);
      }
    },
  };
}

/** A RequestBody for GET/HEAD, which carry none. */
export const EMPTY_BODY: RequestBody = {
  text: "",
  bytes: Buffer.alloc(0),
  json: (fallback?: unknown) => {
    if (fallback !== undefined) return fallback;
    throw new HttpError(400, "the request needs a JSON body");
  },
};
