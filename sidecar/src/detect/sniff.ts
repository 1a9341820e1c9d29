// Protocol detection: read the first bytes a client sends and decide between HTTP/1.x, HTTP/2
// with prior knowledge (the connection preface) and anything else (opaque TCP). The bytes read are
// pushed back into the socket (unshift), so whoever handles it next sees the stream untouched.
// Like Istio's protocol sniffing, a client that says nothing within the timeout is TCP: a
// server-speaks-first protocol must not wait forever (declare such ports "server-first" to skip
// the wait entirely).
import type { Socket } from "node:net";

export type Sniffed = "http1" | "h2" | "tcp" | "closed";

export interface SniffResult {
  kind: Sniffed;
  /** Bytes that could not be pushed back because the client already ended its side (TCP only). */
  head?: Buffer;
}

/** The HTTP/2 connection preface (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** Methods a client may open an HTTP/1.x request with (RFC 9110 plus WebDAV's common ones). */
const METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
  "PROPFIND",
  "PROPPATCH",
  "MKCOL",
  "COPY",
  "MOVE",
  "LOCK",
  "UNLOCK",
].map((m) => Buffer.from(`${m} `));
/** More than any method or the preface need; a client that sent this much has said enough. */
const ENOUGH = H2_PREFACE.length;

/** Classifies a prefix of the stream: "more" when it could still be either. */
export function classify(bytes: Buffer): Exclude<Sniffed, "closed"> | "more" {
  const n = Math.min(bytes.length, H2_PREFACE.length);
  if (bytes.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) {
    return bytes.length >= H2_PREFACE.length ? "h2" : "more";
  }
  let prefixOfSome = false;
  for (const m of METHODS) {
    const k = Math.min(bytes.length, m.length);
    if (!bytes.subarray(0, k).equals(m.subarray(0, k))) continue;
    if (bytes.length >= m.length) return "http1";
    prefixOfSome = true;
  }
  return prefixOfSome && bytes.length < ENOUGH ? "more" : "tcp";
}

/**
 * Reads until the first bytes decide (or timeoutMs passes: "tcp"; 0 waits as long as it takes),
 * then pauses the socket with the bytes pushed back. "closed": the client left before deciding.
 */
export function sniff(socket: Socket, timeoutMs: number): Promise<SniffResult> {
  return new Promise((resolve) => {
    let seen: Buffer = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const finish = (kind: Sniffed) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onEnd);
      socket.off("close", onEnd);
      socket.pause();
      // A stream that has ended refuses unshift; the bytes then travel separately.
      if (seen.length > 0 && ended) return resolve({ kind, head: seen });
      if (seen.length > 0) socket.unshift(seen);
      resolve({ kind });
    };
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const kind = classify(seen);
      if (kind !== "more") finish(kind);
    };
    // A client that half-closes after a short message is still served as TCP.
    const onEnd = () => {
      ended = true;
      finish(seen.length > 0 ? "tcp" : "closed");
    };
    if (timeoutMs > 0) timer = setTimeout(() => finish("tcp"), timeoutMs);
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("error", onEnd);
    // Destroyed mid-detection (drain, client reset): settle now, so no timer outlives the socket.
    socket.once("close", onEnd);
    // A 'data' listener alone does not restart a socket paused on purpose (by peer admission).
    socket.resume();
  });
}
