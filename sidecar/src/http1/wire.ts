// HTTP/1.1 bytes on the wire: message heads, chunked framing and the short answers the proxy gives
// itself. Heads are built as one latin1 string so each goes out in a single write.
import { STATUS_CODES } from "node:http";
import type { HeaderPairs } from "../http/headers";

const CRLF = "\r\n";
export const LAST_CHUNK = Buffer.from("0\r\n\r\n");
const CRLF_BUF = Buffer.from(CRLF);

export function requestHead(method: string, path: string, headers: HeaderPairs): string {
  let s = `${method} ${path} HTTP/1.1\r\n`;
  for (const [n, v] of headers) s += `${n}: ${v}\r\n`;
  return `${s}\r\n`;
}

export function responseHead(status: number, reason: string, headers: HeaderPairs): string {
  let s = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [n, v] of headers) s += `${n}: ${v}\r\n`;
  return `${s}\r\n`;
}

/** The chunk-size line for one chunk of a re-chunked body. */
export function chunkHeader(size: number): string {
  return `${size.toString(16)}\r\n`;
}

export { CRLF_BUF };

/** The last chunk with trailer fields (flat name/value list from the parser). */
export function lastChunk(trailers: string[] | undefined): string | Buffer {
  if (!trailers || trailers.length === 0) return LAST_CHUNK;
  let s = "0\r\n";
  for (let i = 0; i + 1 < trailers.length; i += 2) s += `${trailers[i]}: ${trailers[i + 1]}\r\n`;
  return `${s}\r\n`;
}

export function reasonOf(status: number): string {
  return STATUS_CODES[status] ?? "";
}

/** A complete text/plain answer from the proxy itself. */
export function plainAnswer(
  status: number,
  message: string,
  via: string,
  close: boolean,
  extra: HeaderPairs = [],
): string {
  let s = `HTTP/1.1 ${status} ${reasonOf(status)}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(message)}\r\nvia: ${via}\r\n`;
  for (const [n, v] of extra) s += `${n}: ${v}\r\n`;
  if (close) s += "connection: close\r\n";
  return `${s}\r\n${message}`;
}

/** rawHeaders-style flat list as pairs. */
export function pairs(flatList: string[]): HeaderPairs {
  const out: HeaderPairs = [];
  for (let i = 0; i + 1 < flatList.length; i += 2)
    out.push([flatList[i] as string, flatList[i + 1] as string]);
  return out;
}
