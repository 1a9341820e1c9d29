// A minimal protobuf wire-format reader for OTLP requests. Every read is bounds-checked so a
// truncated or corrupt body fails with a reason (field, offset, bytes missing) instead of garbage.
import { TelemetryError } from "./errors";
import { AFTER_LATEST_TIME, LATEST_TIME_NS } from "./types";

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export class ProtobufReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Returns [fieldNumber, wireType]. */
  tag(): [number, number] {
    const t = this.varint32();
    const field = t >>> 3;
    if (field === 0) this.fail("a field number of 0");
    return [field, t & 7];
  }

  varint32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) this.fail("a varint that runs past the end");
      const b = this.buf[this.pos++]!;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else if (shift === 28) result |= (b & 0x0f) << 28;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift >= 70) this.fail("a varint longer than 10 bytes");
    }
  }

  /** A 64-bit varint as a bigint (int64 attribute values, two's complement). */
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) this.fail("a varint that runs past the end");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asIntN(64, result);
      shift += 7n;
      if (shift >= 70n) this.fail("a varint longer than 10 bytes");
    }
  }

  fixed64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A fixed64 time in ns since 1970, within what the stores keep (LATEST_TIME_NS). */
  timestamp(): bigint {
    const at = this.pos;
    const v = this.fixed64();
    if (v > LATEST_TIME_NS) {
      this.pos = at;
      this.fail(`a time of ${v} ns, ${AFTER_LATEST_TIME}`);
    }
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A length-delimited field as a reader over its bytes (no copy). */
  sub(): ProtobufReader {
    const len = this.varint32();
    this.need(len);
    const r = new ProtobufReader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  bytes(): Buffer {
    const len = this.varint32();
    this.need(len);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  /** A string, decoding at most `maxChars` worth of bytes so a huge value costs no more than that. */
  string(maxChars?: number): string {
    const len = this.varint32();
    this.need(len);
    const start = this.pos;
    this.pos += len;
    if (maxChars === undefined) return this.buf.toString("utf8", start, start + len);
    // A character is at most 4 bytes, so that many fill maxChars; but an ASCII value up to 4 times
    // the limit decodes whole, and must still be cut to it.
    const text = this.buf.toString("utf8", start, start + Math.min(len, maxChars * 4));
    if (len <= maxChars * 4 && text.length <= maxChars) return text;
    const head = text.slice(0, maxChars);
    return `${head}...[truncated ${len - Buffer.byteLength(head)} bytes]`;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_LEN: {
        const len = this.varint32();
        this.need(len);
        this.pos += len;
        return;
      }
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        this.fail(`wire type ${wireType}, which protobuf does not define (groups are not used by OTLP)`);
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.end) {
      this.fail(`a field of ${n} bytes with only ${this.end - this.pos} left (truncated?)`);
    }
  }

  private fail(what: string): never {
    throw new TelemetryError("BAD_OTLP", `malformed protobuf at byte ${this.pos}: ${what}`);
  }
}
