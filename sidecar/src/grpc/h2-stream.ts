// One request stream of the sidecar's HTTP/2 client (h2-session.ts): its half-closed states, its
// send window, and the events the gRPC channel listens to.
import { EventEmitter } from "node:events";
import { H2Code, WINDOW_REFILL } from "./h2-frames";

/** Header fields of a response or trailers; a repeated name's values are joined with ", ". */
export type H2Headers = Record<string, string>;

/** What a stream asks of the connection it runs on. */
export interface StreamOwner {
  flush(stream: H2Stream): void;
  reset(stream: H2Stream, code: number): void;
  forget(stream: H2Stream): void;
  writeWindowUpdate(streamId: number, increment: number): void;
}

/**
 * One request stream. Events: "response" (headers), "data" (Buffer), "trailers" (headers),
 * "error" (Error: the connection failed or the server refused the stream), then "close" once.
 */
export class H2Stream extends EventEmitter {
  /** The RST_STREAM code that ended it, if one did. */
  rstCode: number | undefined;
  destroyed = false;
  /** @internal */ queued: Buffer[] = [];
  /** @internal */ ending = false;
  /** @internal */ localClosed = false;
  /** @internal */ remoteClosed = false;
  private responded = false;
  private unacknowledged = 0;

  constructor(
    private readonly session: StreamOwner,
    readonly id: number,
    /** @internal */ public sendWindow: number,
  ) {
    super();
  }

  write(chunk: Buffer): void {
    if (this.destroyed || this.ending || chunk.length === 0) return;
    this.queued.push(chunk);
    this.session.flush(this);
  }

  /** Ends our side (END_STREAM after what is queued). */
  end(): void {
    if (this.destroyed || this.ending) return;
    this.ending = true;
    this.session.flush(this);
  }

  /** Ends the stream now with RST_STREAM `code` (default CANCEL); emits "close". */
  close(code: number = H2Code.CANCEL): void {
    if (this.destroyed) return;
    this.rstCode = code;
    this.session.reset(this, code);
    this.finish();
  }

  /** @internal */
  sentEnd(): void {
    this.localClosed = true;
    if (this.remoteClosed) this.done();
  }

  /** @internal */
  received(data: Buffer, endStream: boolean): void {
    if (this.destroyed) return;
    if (data.length > 0) this.emit("data", data);
    if (endStream) this.remoteEnded();
  }

  /** @internal */
  refill(bytes: number): void {
    this.unacknowledged += bytes;
    if (this.unacknowledged < WINDOW_REFILL) return;
    this.session.writeWindowUpdate(this.id, this.unacknowledged);
    this.unacknowledged = 0;
  }

  /** @internal */
  onHeaders(fields: Array<[string, string]>, endStream: boolean): void {
    if (this.destroyed) return;
    // No prototype: a field named "constructor" or "__proto__" is a field like any other.
    const headers: H2Headers = Object.create(null);
    for (const [name, value] of fields)
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    const status = Number(headers[":status"]);
    if (!this.responded) {
      if (status >= 100 && status < 200 && !endStream) return; // informational: the real answer follows
      this.responded = true;
      this.emit("response", headers);
    } else {
      this.emit("trailers", headers);
    }
    if (endStream) this.remoteEnded();
  }

  /** @internal */
  onReset(code: number): void {
    if (this.destroyed) return;
    this.rstCode = code;
    this.session.forget(this);
    this.finish();
  }

  /** @internal The connection failed, or the server will never process this stream. */
  abort(err: Error): void {
    if (this.destroyed) return;
    this.session.forget(this);
    this.destroyed = true;
    this.emit("error", err);
    this.emit("close");
  }

  private remoteEnded(): void {
    this.remoteClosed = true;
    if (this.destroyed) return; // a listener of the last data or headers already ended it
    // The server has answered in full; a request body still being sent has no reader left.
    if (!this.localClosed) {
      this.rstCode = H2Code.NO_ERROR;
      this.session.reset(this, H2Code.NO_ERROR);
      this.finish();
      return;
    }
    this.done();
  }

  private done(): void {
    this.session.forget(this);
    this.finish();
  }

  private finish(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.queued = [];
    this.emit("close");
  }
}
