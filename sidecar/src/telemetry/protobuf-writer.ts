// The protobuf writer behind span-codec and log-batch-codec: one growing buffer written in a single
// pass, each message's length reserved ahead and filled in after (the body moves only when the
// guessed size of the length was wrong), short ASCII strings and hex ids copied in JS rather than
// by a native call per field.
import type { HrTime } from "@opentelemetry/api";

/** Buffer's own UTF-8 writer, without write()'s argument juggling. */
type RawBuffer = Buffer & {
  utf8Write(s: string, at: number, len: number): number;
};

export class Writer {
  buf: RawBuffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size) as RawBuffer;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n)) as RawBuffer;
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A varint of up to 32 bits (tags, lengths, counts); larger or negative numbers: int64(). */
  varint(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let x = v >>> 0;
    while (x > 127) {
      b[this.pos++] = (x & 127) | 128;
      x >>>= 7;
    }
    b[this.pos++] = x;
  }

  /** An int64 varint as the SDK writes it (two's complement for negatives: 10 bytes). */
  int64(v: number): void {
    if (v >= 0 && v <= 0xffffffff) {
      this.varint(v);
      return;
    }
    const abs = Math.abs(v);
    let lo = abs >>> 0;
    let hi = (abs / 0x100000000) >>> 0;
    if (v < 0) {
      lo = (~lo + 1) >>> 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    this.varint64(lo, hi);
  }

  /** A 64-bit varint from its unsigned 32-bit halves. */
  varint64(low: number, high: number): void {
    let lo = low >>> 0;
    let hi = high >>> 0;
    this.ensure(10);
    while (hi > 0 || lo > 127) {
      this.buf[this.pos++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** An HrTime as fixed64 nanoseconds. */
  time(t: HrTime): void {
    this.nanos(t[0], t[1]);
    this.ensure(8);
    const b = this.buf;
    const at = this.pos;
    const lo = this.lo;
    const hi = this.hi;
    b[at] = lo;
    b[at + 1] = lo >>> 8;
    b[at + 2] = lo >>> 16;
    b[at + 3] = lo >>> 24;
    b[at + 4] = hi;
    b[at + 5] = hi >>> 8;
    b[at + 6] = hi >>> 16;
    b[at + 7] = hi >>> 24;
    this.pos = at + 8;
  }

  /** sec * 1e9 + ns (sec < 2^48) as a varint. */
  nanosVarint(sec: number, ns: number): void {
    this.nanos(sec, ns);
    this.varint64(this.lo, this.hi);
  }

  private lo = 0;
  private hi = 0;

  /** sec * 1e9 + ns into lo/hi, split so no product leaves the safe-integer range. */
  private nanos(sec: number, ns: number): void {
    const low16 = (sec & 0xffff) * 1e9;
    const high = ((sec / 0x10000) >>> 0) * 1e9;
    const lo = (low16 >>> 0) + (((high & 0xffff) * 0x10000) >>> 0) + ns;
    this.lo = lo >>> 0;
    this.hi =
      (Math.floor(low16 / 0x100000000) + ((high / 0x10000) >>> 0) + Math.floor(lo / 0x100000000)) >>> 0;
  }

  string(s: string): void {
    const n = s.length;
    // Short ASCII strings (nearly every span string) are copied here: a native write per string
    // cost more than the copy.
    if (n < 128) {
      this.ensure(n + 1);
      this.buf[this.pos] = n;
      const end = asciiInto(this.buf, this.pos + 1, s);
      if (end >= 0) {
        this.pos = end;
        return;
      }
    }
    const len = Buffer.byteLength(s, "utf8");
    this.varint(len);
    this.ensure(len);
    this.pos += this.buf.utf8Write(s, this.pos, len);
  }

  /**
   * A KeyValue whose value is a string, both ASCII and short enough that every length inside fits
   * one byte (most span attributes): its length, then `0x0a key 0x12 AnyValue{0x0a value}`, in one
   * pass with no length to reserve and fill in. False, with pos unchanged, when it does not fit.
   */
  shortAsciiKeyValue(key: string, value: string): boolean {
    return this.asciiPair(-1, key, value, true);
  }

  /** A map<string, string> entry after its `tag` (nearly every log attribute), as shortAsciiKeyValue
   * writes a KeyValue: `tag len 0x0a klen key 0x12 vlen value`. */
  shortAsciiMapEntry(tag: number, key: string, value: string): boolean {
    return tag <= 127 && this.asciiPair(tag, key, value, false);
  }

  /** `tag` (unless -1), the length, the key as field 1, the value as field 2 (inside an AnyValue's
   * field 1 when `anyValue`), all lengths one byte; false, with pos unchanged, when they are not. */
  private asciiPair(tag: number, key: string, value: string, anyValue: boolean): boolean {
    const k = key.length;
    const v = value.length;
    const len = k + v + (anyValue ? 6 : 4);
    if (len > 127) return false;
    this.ensure(len + 2);
    const b = this.buf;
    let at = this.pos;
    if (tag >= 0) b[at++] = tag;
    b[at++] = len;
    b[at++] = 0x0a;
    b[at++] = k;
    at = asciiInto(b, at, key);
    if (at < 0) return false;
    b[at++] = 0x12;
    if (anyValue) {
      b[at++] = v + 2;
      b[at++] = 0x0a;
    }
    b[at++] = v;
    at = asciiInto(b, at, value);
    if (at < 0) return false;
    this.pos = at;
    return true;
  }

  /** Trace and span ids: hex → bytes. */
  hex(id: string): void {
    const len = id.length >>> 1;
    this.varint(len);
    this.ensure(len);
    const b = this.buf;
    const at = this.pos;
    for (let i = 0; i < len; i++) {
      const hi = NIBBLE[id.charCodeAt(2 * i) & 0x7f] as number;
      b[at + i] = (hi << 4) | (NIBBLE[id.charCodeAt(2 * i + 1) & 0x7f] as number);
    }
    this.pos = at + len;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Starts a length-delimited message after its tag: reserves `guess` bytes for the length. */
  open(guess: number): number {
    this.ensure(guess);
    this.pos += guess;
    return this.pos;
  }

  /** Writes the length of the message begun at `start`, moving it when `guess` was wrong. */
  close(start: number, guess: number): void {
    const len = this.pos - start;
    const size = len < 128 ? 1 : len < 16384 ? 2 : len < 2097152 ? 3 : len < 268435456 ? 4 : 5;
    if (size !== guess) {
      this.ensure(size - guess);
      this.buf.copy(this.buf, start + size - guess, start, this.pos);
      this.pos += size - guess;
    }
    let at = start - guess;
    let x = len;
    while (x > 127) {
      this.buf[at++] = (x & 127) | 128;
      x >>>= 7;
    }
    this.buf[at] = x;
  }
}

/** Copies an ASCII string into `b` at `at` (room made by the caller): the index after it, or -1
 * (some of it written) at the first char that is not ASCII. */
function asciiInto(b: Uint8Array, at: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) return -1;
    b[at + i] = c;
  }
  return at + n;
}

/** A hex digit's value by its character code, as the SDK's hexToBinary reads it (0-9, a-f, else
 * code - 55, which gives A-F right), kept to a byte like the Uint8Array it writes into. */
const NIBBLE = new Uint8Array(128);
for (let c = 0; c < 128; c++) NIBBLE[c] = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c - 55;
