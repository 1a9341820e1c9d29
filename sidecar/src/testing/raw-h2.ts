// HTTP/2 spoken by hand, for tests that must send what node:http2 refuses to (a field it forbids, a
// status it would not read, trailers with a pseudo-header): one request on a fresh connection, and
// a server that answers each request with whatever head, body and trailers a test gives it. Built on
// the sidecar's own frame and HPACK code (grpc/h2-frames.ts, grpc/hpack.ts).
import net, { type AddressInfo } from "node:net";
import {
  ACK,
  END_HEADERS,
  END_STREAM,
  Frame,
  frame,
  PADDED,
  PREFACE,
  PRIORITY,
  settingsPayload,
  u32,
} from "../grpc/h2-frames";
import { encodeHeaders, HpackDecoder } from "../grpc/hpack";

export type Fields = Array<[string, string]>;

interface RawFrame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** Splits frames off a connection's bytes as they come. */
function frameReader(onFrame: (f: RawFrame) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3);
      if (buf.length < 9 + len) break;
      onFrame({
        type: buf[3] as number,
        flags: buf[4] as number,
        stream: buf.readUInt32BE(5) & 0x7fffffff,
        payload: buf.subarray(9, 9 + len),
      });
      buf = buf.subarray(9 + len);
    }
  };
}

/** A HEADERS payload's header block (padding and priority taken off). */
function headerBlock(f: RawFrame): Buffer {
  let p = f.payload;
  let pad = 0;
  if (f.flags & PADDED) {
    pad = p[0] as number;
    p = p.subarray(1);
  }
  if (f.flags & PRIORITY) p = p.subarray(5);
  return p.subarray(0, p.length - pad);
}

export interface RawAnswer {
  status?: number;
  headers: Fields;
  body: string;
  trailers?: Fields;
  /** RST_STREAM's error code, when the stream was reset. */
  reset?: number;
  /** GOAWAY's error code, when the connection was ended. */
  goaway?: number;
  /** Nothing ended the stream within the wait. */
  hung?: boolean;
}

/**
 * Sends one request (a HEADERS frame of `fields` as given, then `body` in a DATA frame if any) on a
 * new connection to `port`, and reads stream 1's answer until it ends, is reset, the connection
 * goes away, or `waitMs` passes.
 */
export async function rawH2Request(
  port: number,
  fields: Fields,
  body?: string,
  waitMs = 5000,
): Promise<RawAnswer> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const answer: RawAnswer = { headers: [], body: "" };
  const decoder = new HpackDecoder();
  return new Promise<RawAnswer>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => {
      answer.hung = true;
      done();
    }, waitMs);
    socket.on(
      "data",
      frameReader((f) => {
        if (f.type === Frame.SETTINGS && !(f.flags & ACK))
          socket.write(frame(Frame.SETTINGS, ACK, 0, Buffer.alloc(0)));
        if (f.type === Frame.GOAWAY) {
          answer.goaway = f.payload.readUInt32BE(4);
          return done();
        }
        if (f.stream !== 1) return;
        if (f.type === Frame.HEADERS) {
          const decoded = decoder.decode(headerBlock(f)) as Fields;
          if (answer.status === undefined) {
            answer.status = Number(decoded.find(([n]) => n === ":status")?.[1]);
            answer.headers = decoded.filter(([n]) => !n.startsWith(":"));
          } else answer.trailers = decoded;
        } else if (f.type === Frame.DATA) answer.body += f.payload.toString("latin1");
        else if (f.type === Frame.RST_STREAM) {
          answer.reset = f.payload.readUInt32BE(0);
          return done();
        }
        if ((f.type === Frame.HEADERS || f.type === Frame.DATA) && f.flags & END_STREAM) done();
      }),
    );
    socket.on("close", done);
    const head = frame(
      Frame.HEADERS,
      END_HEADERS | (body === undefined ? END_STREAM : 0),
      1,
      encodeHeaders(fields),
    );
    const frames = [PREFACE, frame(Frame.SETTINGS, 0, 0, settingsPayload([])), head];
    if (body !== undefined) frames.push(frame(Frame.DATA, END_STREAM, 1, Buffer.from(body, "latin1")));
    socket.write(Buffer.concat(frames));
  });
}

export interface RawReply {
  head: Fields;
  body?: string;
  /** Sent as a HEADERS frame ending the stream after the body. */
  trailers?: Fields;
  /** Instead of ending the stream, reset it with this code after the body (0: NO_ERROR). */
  resetAfterBody?: number;
}

export interface RawH2Server {
  port: number;
  /** Every request head received, in order. */
  readonly requests: Fields[];
  close(): Promise<void>;
}

/** A server answering each request as `reply` says (the body, if any, ends the stream unless
 * trailers follow), without looking at what node:http2 would allow. */
export async function rawH2Server(reply: (request: Fields) => RawReply): Promise<RawH2Server> {
  const requests: Fields[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.write(frame(Frame.SETTINGS, 0, 0, settingsPayload([])));
    const decoder = new HpackDecoder();
    let preface = Buffer.alloc(0);
    const read = frameReader((f) => {
      if (f.type === Frame.SETTINGS && !(f.flags & ACK))
        socket.write(frame(Frame.SETTINGS, ACK, 0, Buffer.alloc(0)));
      if (f.type !== Frame.HEADERS) return;
      const request = decoder.decode(headerBlock(f)) as Fields;
      requests.push(request);
      const r = reply(request);
      const cut = r.resetAfterBody !== undefined;
      const hasBody = r.body !== undefined || cut;
      const hasTrailers = r.trailers !== undefined && !cut;
      const ends = (last: boolean) => (last && !cut ? END_STREAM : 0);
      const out = [
        frame(Frame.HEADERS, END_HEADERS | ends(!hasBody && !hasTrailers), f.stream, encodeHeaders(r.head)),
      ];
      if (hasBody)
        out.push(frame(Frame.DATA, ends(!hasTrailers), f.stream, Buffer.from(r.body ?? "", "latin1")));
      if (hasTrailers)
        out.push(frame(Frame.HEADERS, END_HEADERS | END_STREAM, f.stream, encodeHeaders(r.trailers ?? [])));
      if (cut) out.push(frame(Frame.RST_STREAM, 0, f.stream, u32(r.resetAfterBody ?? 0)));
      socket.write(Buffer.concat(out));
    });
    socket.on("data", (chunk: Buffer) => {
      if (preface.length < PREFACE.length) {
        preface = Buffer.concat([preface, chunk]);
        if (preface.length < PREFACE.length) return;
        chunk = preface.subarray(PREFACE.length);
      }
      read(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
