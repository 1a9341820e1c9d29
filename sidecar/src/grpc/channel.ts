// A lean gRPC client, for the three calls a sidecar makes to the control plane: the config stream
// (bidi), log batches and span exports (unary). grpc-js would cost every sidecar about 25 ms and
// 12 MB at start for resolvers, load balancers, channelz and interceptors that a connection to one
// local socket never uses; node:http2 another 10 ms and 1 MB for tls and crypto, so the HTTP/2
// underneath is our own small client (h2-session.ts). This speaks the gRPC-over-HTTP/2 protocol as
// grpc/doc/PROTOCOL-HTTP2.md writes it: length-prefixed messages, grpc-timeout, and a status in
// the trailers (or in the headers of a trailers-only response).
//
// One HTTP/2 session per channel carries every call. A broken session fails its calls with
// UNAVAILABLE and the next call opens a new one; the callers own their retry policy (the config
// stream reconnects with backoff, a log batch is counted as dropped).
import { EventEmitter } from "node:events";
import { connect as netConnect } from "node:net";
import { MessageFramer } from "./framing";
import { COPY_BELOW_BYTES } from "./h2-frames";
import { H2Code, type H2Headers, H2Session, type H2Stream } from "./h2-session";
import { GrpcStatus, GrpcStatusError, statusFromHttp } from "./status";

export interface CallOptions {
  /** The call fails with DEADLINE_EXCEEDED after this long; sent as grpc-timeout too. */
  timeoutMs?: number;
  /** Custom metadata (lower-case names), e.g. authorization. */
  metadata?: Array<[string, string]>;
}

/** A bidi-streaming call: "message" (Buffer) per response message, then "end" or "error" (GrpcStatusError). */
export interface StreamingCall extends EventEmitter {
  write(message: Buffer): void;
  /** Closes our side: no more messages. */
  end(): void;
  /** Abandons the call (RST_STREAM CANCEL); emits nothing more. */
  cancel(): void;
}

/** Messages larger than this are refused (grpc-js's default is 4 MB; config for a big mesh can be more). */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export class GrpcChannel {
  private session: H2Session | undefined;
  private closed = false;
  private readonly authority: string;
  private readonly socketPath: string | undefined;

  /** target: "unix:///path", "unix:/path", "/path" or "host:port". */
  constructor(readonly target: string) {
    const unix = /^unix:(?:\/\/)?(\/.*)$/.exec(target) ?? /^(\/.*)$/.exec(target);
    this.socketPath = unix?.[1];
    this.authority = this.socketPath ? "localhost" : target;
  }

  /** A unary call: resolves with the response message, rejects with a GrpcStatusError. */
  unary(path: string, request: Buffer, options: CallOptions = {}): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let response: Buffer | undefined;
      const call = this.open(path, options, (message) => {
        if (response) {
          call.fail(
            new GrpcStatusError(
              GrpcStatus.INTERNAL,
              `${path}: the server sent two responses to a unary call`,
            ),
          );
          return;
        }
        response = message;
      });
      call.on("error", reject);
      call.on("end", () => {
        if (response) resolve(response);
        else reject(new GrpcStatusError(GrpcStatus.INTERNAL, `${path}: the server sent no response message`));
      });
      call.write(request);
      call.end();
    });
  }

  /** A bidi-streaming call. */
  stream(path: string, options: CallOptions = {}): StreamingCall {
    const call = this.open(path, options, (message) => call.emit("message", message));
    return call;
  }

  /** Closes the session; calls in flight fail with UNAVAILABLE, later calls with UNAVAILABLE at once. */
  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  private open(path: string, options: CallOptions, onMessage: (m: Buffer) => void): Call {
    if (this.closed) return Call.failed(new GrpcStatusError(GrpcStatus.UNAVAILABLE, "the channel is closed"));
    let session: H2Session;
    try {
      session = this.live();
    } catch (err) {
      return Call.failed(new GrpcStatusError(GrpcStatus.UNAVAILABLE, (err as Error).message));
    }
    const headers: Array<[string, string]> = [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", path],
      [":authority", this.authority],
      ["content-type", "application/grpc"],
      ["te", "trailers"],
      ["grpc-accept-encoding", "identity"],
      ["user-agent", "weft-sidecar"],
    ];
    if (options.timeoutMs !== undefined)
      headers.push(["grpc-timeout", `${Math.max(1, Math.ceil(options.timeoutMs))}m`]);
    if (options.metadata) headers.push(...options.metadata);
    let stream: H2Stream;
    try {
      stream = session.request(headers);
    } catch (err) {
      this.drop(session);
      return Call.failed(new GrpcStatusError(GrpcStatus.UNAVAILABLE, (err as Error).message));
    }
    return new Call(stream, path, onMessage, options.timeoutMs);
  }

  /** The current session, or a new one when there is none or it is going away. */
  private live(): H2Session {
    const current = this.session;
    if (current && !current.closed) return current;
    const session = new H2Session(
      this.socketPath ? netConnect(this.socketPath) : netConnect(hostPort(this.target)),
    );
    // The session must not keep the process alive on its own (a stopped sidecar exits).
    session.unref();
    const forget = () => this.drop(session);
    session.on("error", forget);
    session.on("close", forget);
    session.on("goaway", forget);
    this.session = session;
    return session;
  }

  private drop(session: H2Session): void {
    if (this.session === session) this.session = undefined;
  }
}

/** "host:port" or "[v6]:port" as net.connect options (the host defaults to localhost). */
function hostPort(target: string): { host: string; port: number } {
  const url = new URL(`http://${target}`);
  return { host: url.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost", port: Number(url.port || 80) };
}

/** One call on one HTTP/2 stream: frames messages out and in, and turns the ending into a status. */
class Call extends EventEmitter implements StreamingCall {
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private status: GrpcStatusError | undefined | null = undefined;

  static failed(error: GrpcStatusError): Call {
    const call = new Call(undefined, "", () => {}, undefined);
    queueMicrotask(() => call.fail(error));
    return call;
  }

  constructor(
    private readonly stream: H2Stream | undefined,
    private readonly path: string,
    onMessage: (m: Buffer) => void,
    timeoutMs: number | undefined,
  ) {
    super();
    if (!stream) return;
    const framer = new MessageFramer(MAX_MESSAGE_BYTES);
    stream.on("response", (headers: H2Headers) => {
      // Not gRPC at all (an error page): its body is not framed messages, so stop here.
      const notGrpc = statusFromHttp(headers);
      if (notGrpc) return this.fail(notGrpc);
      // A trailers-only response carries grpc-status in its headers.
      const status = statusOf(headers);
      if (status !== undefined) this.status = status;
    });
    stream.on("trailers", (trailers: H2Headers) => {
      const status = statusOf(trailers);
      if (status !== undefined) this.status = status;
    });
    stream.on("data", (chunk: Buffer) => {
      if (this.done) return;
      try {
        for (const message of framer.push(chunk)) onMessage(message);
      } catch (err) {
        this.fail(new GrpcStatusError(GrpcStatus.RESOURCE_EXHAUSTED, `${path}: ${(err as Error).message}`));
      }
    });
    stream.on("error", (err: Error) =>
      this.fail(new GrpcStatusError(GrpcStatus.UNAVAILABLE, `${path}: ${err.message}`)),
    );
    stream.on("close", () => this.closed());
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(
        () =>
          this.fail(
            new GrpcStatusError(GrpcStatus.DEADLINE_EXCEEDED, `${path}: no answer within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      this.timer.unref();
    }
  }

  write(message: Buffer): void {
    if (this.done || !this.stream || this.stream.destroyed) return;
    const prefix = Buffer.allocUnsafe(5);
    prefix[0] = 0;
    prefix.writeUInt32BE(message.length, 1);
    if (message.length < COPY_BELOW_BYTES) this.stream.write(Buffer.concat([prefix, message]));
    else {
      // A large message (an export batch) is queued as it is, not copied behind its 5 bytes.
      this.stream.write(prefix);
      this.stream.write(message);
    }
  }

  end(): void {
    if (!this.done && this.stream && !this.stream.destroyed) this.stream.end();
  }

  cancel(): void {
    this.done = true;
    this.removeAllListeners();
    this.finish();
  }

  /** Ends the call with an error status (once), and resets the stream. */
  fail(error: GrpcStatusError): void {
    if (this.done) return;
    this.done = true;
    this.finish();
    this.emit("error", error);
  }

  private closed(): void {
    if (this.done) return;
    const status = this.status;
    if (status === null) {
      this.done = true;
      clearTimeout(this.timer);
      this.emit("end");
      return;
    }
    const rst = this.stream?.rstCode;
    this.fail(
      status ??
        new GrpcStatusError(
          GrpcStatus.UNAVAILABLE,
          rst && rst !== H2Code.NO_ERROR
            ? `${this.path}: the stream was reset (HTTP/2 error ${rst})`
            : `${this.path}: the connection closed before the call ended`,
        ),
    );
  }

  private finish(): void {
    clearTimeout(this.timer);
    const stream = this.stream;
    if (stream && !stream.destroyed) stream.close(H2Code.CANCEL);
  }
}

/** null for OK, an error for any other status, undefined when the headers carry none. */
function statusOf(headers: H2Headers): GrpcStatusError | null | undefined {
  const raw = headers["grpc-status"];
  if (raw === undefined) return undefined;
  const code = Number(raw);
  if (code === GrpcStatus.OK) return null;
  const message = headers["grpc-message"];
  let details = typeof message === "string" ? message : "";
  try {
    details = decodeURIComponent(details);
  } catch {
    // not percent-encoded as the spec asks: keep it as sent
  }
  return new GrpcStatusError(
    Number.isInteger(code) ? code : GrpcStatus.UNKNOWN,
    details || `grpc-status ${raw}`,
  );
}
