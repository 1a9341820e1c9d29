// A request body on its way upstream: streamed to the current attempt as it arrives (the client is
// held while the upstream socket wants a 'drain', or while too much waits for a connection), with
// a copy kept while the body fits REPLAY_BODY_LIMIT_BYTES so a failed attempt can be sent again
// byte for byte (upstream/plan.ts: `replayable`). Chunked bodies are re-chunked, trailers kept.
import type { Socket } from "node:net";
import { REPLAY_BODY_LIMIT_BYTES } from "../upstream/plan";
import { writeChunk } from "./framing";
import { lastChunk } from "./wire";

/** Bytes queued for an upstream not connected yet before the client is asked to wait. */
const PENDING_HIGH = 64 * 1024;

export class RequestBody {
  /** The client sent the whole body. */
  done = false;
  received = 0;
  private trailers: string[] | undefined;
  /** The body so far while it fits the replay limit; null once it does not. */
  private kept: Buffer[] | null = [];
  private keptBytes = 0;
  /** Chunks the current attempt has not been sent yet. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The current attempt's socket, once its head is written; null before and after. */
  private out: Socket | null = null;
  private stopped = false;

  constructor(
    readonly chunked: boolean,
    /** Stop (true) or go on (false) reading from the client. */
    private readonly hold: (on: boolean) => void,
  ) {}

  /** The whole body so far is at hand, so another attempt can send it again. */
  get replayable(): boolean {
    return this.kept !== null;
  }

  /** Sent whole to the current attempt (its connection may carry another request). */
  get sent(): boolean {
    return this.done && this.pendingBytes === 0 && this.out !== null;
  }

  /** The whole body, when it is done and was kept (it fit the replay limit); else undefined. */
  whole(): Buffer | undefined {
    if (!this.done || !this.kept) return undefined;
    return this.kept.length === 1 ? this.kept[0] : Buffer.concat(this.kept, this.keptBytes);
  }

  /** Bytes held in memory now. */
  get held(): number {
    return this.pendingBytes + this.keptBytes;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    this.received += n;
    if (this.kept) {
      if (this.keptBytes + n <= REPLAY_BODY_LIMIT_BYTES) {
        this.kept.push(chunk);
        this.keptBytes += n;
      } else this.kept = null;
    }
    if (this.stopped) return;
    if (this.out) {
      if (!writeChunk(this.out, chunk, this.chunked)) this.hold(true);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += n;
    if (this.pendingBytes > PENDING_HIGH) this.hold(true);
  }

  end(trailers: string[] | undefined): void {
    this.done = true;
    this.trailers = trailers;
    if (this.out && !this.stopped) this.writeEnd(this.out);
  }

  /** A new attempt: the body goes again from the start (only ever when replayable). */
  restart(): void {
    this.out = null;
    this.pending = this.kept ? this.kept.slice() : [];
    this.pendingBytes = this.keptBytes;
  }

  /** The attempt's head is written to `s`: what waited follows, the rest streams as it comes. */
  attach(s: Socket): void {
    this.out = s;
    const queued = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const chunk of queued) writeChunk(s, chunk, this.chunked);
    if (this.done) this.writeEnd(s);
    this.hold(s.writableNeedDrain);
  }

  /** A response is on its way to the client: no more body goes upstream. */
  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
  }

  private writeEnd(s: Socket): void {
    if (this.chunked) s.write(lastChunk(this.trailers), "latin1");
  }
}
