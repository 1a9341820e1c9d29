// gRPC's message framing on a byte stream: a 1-byte compressed flag, a 4-byte big-endian length,
// then the message. Chunks arrive split and joined anywhere; push() returns every message completed.
export class MessageFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** Throws when a message is compressed (never asked for) or larger than the limit. */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const out: Buffer[] = [];
    while (this.pendingBytes >= 5) {
      const head = this.peek(5);
      if (head[0] !== 0)
        throw new Error("the server sent a compressed message, which this client never accepts");
      const length = head.readUInt32BE(1);
      if (length > this.maxMessageBytes) {
        throw new Error(`a message of ${length} bytes is over the ${this.maxMessageBytes}-byte limit`);
      }
      if (this.pendingBytes < 5 + length) break;
      out.push(this.take(5 + length).subarray(5));
    }
    return out;
  }

  private peek(n: number): Buffer {
    const first = this.pending[0] as Buffer;
    if (first.length >= n) return first;
    this.pending = [Buffer.concat(this.pending)];
    return this.pending[0] as Buffer;
  }

  private take(n: number): Buffer {
    const whole = this.peek(n);
    const taken = whole.subarray(0, n);
    const rest = whole.subarray(n);
    if (rest.length > 0) this.pending[0] = rest;
    else this.pending.shift();
    this.pendingBytes -= n;
    return taken;
  }
}
