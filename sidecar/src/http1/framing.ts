// How a forwarded HTTP/1.1 message is framed on its next hop: the request head for upstream
// (rewritten fields, then Transfer-Encoding, Content-Length: 0 or Connection: upgrade as the body
// needs), the response head for the client (length kept, chunked re-chunked for HTTP/1.1 clients,
// no body for HEAD/204/304, read-until-close ends the connection), and body chunks on the wire.
import type { Socket } from "node:net";
import { fieldIs, forwardResponseLines, type HeaderPairs, headerValue } from "../http/headers";
import { type HttpRoute, type RequestContext, requestContext } from "../http/route";
import type { RequestHead, Shared } from "./shared";
import { CRLF_BUF, chunkHeader, pairs } from "./wire";

/** Methods whose request without framing gets no `content-length: 0` (as flow.ts). */
const BODYLESS = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"]);

/** The hooks' view of a request just parsed. */
export function newContext(
  shared: Shared,
  route: HttpRoute,
  head: RequestHead,
  address?: string,
  peerIdentity?: string,
): RequestContext {
  const headerPairs = pairs(head.headers);
  return requestContext(shared.direction, route.service, headerValue(headerPairs, "x-request-id") ?? "", {
    method: head.method,
    path: head.path,
    authority: headerValue(headerPairs, "host") ?? "",
    headers: headerPairs,
    protocol: "http1",
    clientAddress: address,
    peerIdentity,
  });
}

/** Whether the client's request body is chunked (the only coding guard.ts lets through). */
export function isChunked(headers: string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i] as string;
    if (fieldIs(n, "transfer-encoding")) return true;
  }
  return false;
}

/** The request head for upstream without its final blank line (Connection: close may follow). */
export function upstreamHeadText(head: RequestHead, headers: HeaderPairs, chunked: boolean): string {
  let text = `${head.method} ${head.path} HTTP/1.1\r\n`;
  let length = false;
  for (const [n, v] of headers) {
    text += `${n}: ${v}\r\n`;
    if (fieldIs(n, "content-length")) length = true;
  }
  if (head.upgrade) text += "connection: upgrade\r\n";
  else if (chunked) text += "transfer-encoding: chunked\r\n";
  else if (!length && !BODYLESS.has(head.method)) text += "content-length: 0\r\n";
  return text;
}

export interface ResponseFraming {
  /** The head to write to the client. */
  text: string;
  /** No body follows (HEAD, 204, 304, or a 101). */
  bodyless: boolean;
  /** Re-chunk the body (the upstream's was chunked, the client speaks HTTP/1.1). */
  chunked: boolean;
  /** The client connection ends after this response. */
  close: boolean;
}

const KEEP_UPGRADE: readonly string[] = ["upgrade"];
const KEEP_NONE: readonly string[] = [];

export function responseFraming(
  head: RequestHead,
  status: number,
  reason: string,
  headers: string[],
  shared: Shared,
): ResponseFraming {
  const upgraded = head.upgrade && status === 101;
  const lines = forwardResponseLines(headers, shared.via, upgraded ? KEEP_UPGRADE : KEEP_NONE);
  const statusLine = `HTTP/1.1 ${status} ${reason}\r\n`;
  if (upgraded) {
    const text = `${statusLine}${lines}connection: upgrade\r\n\r\n`;
    return { text, bodyless: true, chunked: false, close: false };
  }
  const bodyless = head.method === "HEAD" || status === 204 || status === 304;
  let framing = "";
  let chunkedOut = false;
  let close = false;
  if (!bodyless) {
    let length = false;
    let chunked = false;
    for (let i = 0; i < headers.length; i += 2) {
      const n = headers[i] as string;
      if (fieldIs(n, "content-length")) length = true;
      else if (fieldIs(n, "transfer-encoding")) chunked = true;
    }
    if (chunked && head.versionMinor >= 1) {
      framing = "transfer-encoding: chunked\r\n";
      chunkedOut = true;
    } else if (chunked || !length) close = true; // the body ends when the upstream closes
  }
  // A declined upgrade: the client expected to switch, so nothing more goes on this connection.
  if (head.upgrade || shared.draining || !head.keepAlive) close = true;
  if (close) framing += "connection: close\r\n";
  else if (head.versionMinor === 0) framing += "connection: keep-alive\r\n";
  return { text: `${statusLine}${lines}${framing}\r\n`, bodyless, chunked: chunkedOut, close };
}

/** Writes one body chunk, chunk-framed or as is; false when the socket wants a 'drain' first. */
export function writeChunk(s: Socket, chunk: Buffer, chunked: boolean): boolean {
  if (!chunked) return s.write(chunk);
  s.cork();
  s.write(chunkHeader(chunk.length), "latin1");
  s.write(chunk);
  const ok = s.write(CRLF_BUF);
  s.uncork();
  return ok;
}
