// Protobuf encoding and decoding driven by the field tables in schema.ts (generated from the .proto
// files). Decoding gives the objects proto-loader gives with the options every Weft component uses
// (keepCase, longs: String, enums: String, defaults: true, oneofs: true): scalars default to their
// zero value, repeated fields to [], maps to {}, absent message fields to null, 64-bit integers are
// decimal strings, and a set oneof member also names itself in the oneof's own field. Encoding
// writes proto3's canonical form (zero values left out, repeated numbers packed). Unknown fields are
// skipped, so an older sidecar reads a newer control plane's messages.
export type ScalarKind =
  | "string"
  | "bytes"
  | "bool"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "double"
  | "float";

export interface FieldSchema {
  no: number;
  name: string;
  /** A scalar kind, or the name of a message in the same schema. */
  kind: string;
  /** A map's key kind; kind is then the value's. */
  map?: string;
  repeated?: true;
  oneof?: string;
}

export type Schema = Record<string, readonly FieldSchema[]>;

export class ProtoDecodeError extends Error {
  readonly code = "PROTO_DECODE";
}

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

const NUMERIC = new Set(["bool", "int32", "uint32", "int64", "uint64", "double", "float"]);

/** Decodes one message of the given type; throws ProtoDecodeError on bytes that are not protobuf. */
export function decodeMessage(schema: Schema, type: string, bytes: Uint8Array): Record<string, unknown> {
  const reader = new Reader(bytes);
  return readMessage(schema, type, reader, bytes.length);
}

/** Encodes a plain object (snake_case names, maps as objects, 64-bit numbers as number, string or bigint). */
export function encodeMessage(schema: Schema, type: string, value: Record<string, unknown>): Buffer {
  const out: number[] = [];
  const chunks: Buffer[] = [];
  writeMessage(schema, type, value, new Writer(out, chunks));
  flush(out, chunks);
  return Buffer.concat(chunks);
}

function fieldsOf(schema: Schema, type: string): readonly FieldSchema[] {
  const fields = schema[type];
  if (!fields) throw new ProtoDecodeError(`no message type ${type} in the schema`);
  return fields;
}

function readMessage(schema: Schema, type: string, r: Reader, end: number): Record<string, unknown> {
  const fields = fieldsOf(schema, type);
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.map) out[f.name] = {};
    else if (f.repeated) out[f.name] = [];
    else if (f.oneof) continue;
    else out[f.name] = zeroOf(f.kind);
  }
  while (r.pos < end) {
    const tag = r.varint();
    const no = tag >>> 3;
    const wire = tag & 7;
    const f = fields.find((x) => x.no === no);
    if (!f) {
      r.skip(wire);
      continue;
    }
    if (f.map) {
      const [k, v] = readMapEntry(schema, f, r);
      (out[f.name] as Record<string, unknown>)[String(k)] = v;
    } else if (f.repeated && wire === LEN && NUMERIC.has(f.kind)) {
      const length = r.length();
      const stop = r.pos + length;
      while (r.pos < stop) (out[f.name] as unknown[]).push(readScalar(f.kind, r));
    } else {
      const v = readValue(schema, f.kind, wire, r);
      if (f.repeated) (out[f.name] as unknown[]).push(v);
      else out[f.name] = v;
      if (f.oneof) out[f.oneof] = f.name;
    }
  }
  if (r.pos !== end) throw new ProtoDecodeError(`${type}: a field runs past the end of the message`);
  return out;
}

function readMapEntry(schema: Schema, f: FieldSchema, r: Reader): [unknown, unknown] {
  const length = r.length();
  const stop = r.pos + length;
  let key: unknown = zeroOf(f.map ?? "string");
  let value: unknown = isScalar(f.kind) ? zeroOf(f.kind) : null;
  while (r.pos < stop) {
    const tag = r.varint();
    if (tag >>> 3 === 1) key = readValue(schema, f.map ?? "string", tag & 7, r);
    else if (tag >>> 3 === 2) value = readValue(schema, f.kind, tag & 7, r);
    else r.skip(tag & 7);
  }
  if (r.pos !== stop) throw new ProtoDecodeError(`${f.name}: a map entry runs past its end`);
  return [key, value];
}

function readValue(schema: Schema, kind: string, wire: number, r: Reader): unknown {
  if (isScalar(kind)) {
    if (wire !== expectedWire(kind))
      throw new ProtoDecodeError(`a ${kind} field arrived with wire type ${wire}`);
    return readScalar(kind, r);
  }
  if (wire !== LEN) throw new ProtoDecodeError(`a ${kind} message arrived with wire type ${wire}`);
  const length = r.length();
  return readMessage(schema, kind, r, r.pos + length);
}

function readScalar(kind: string, r: Reader): unknown {
  switch (kind) {
    case "string":
      return r.bytes().toString("utf8");
    case "bytes":
      return Buffer.from(r.bytes());
    case "bool":
      return r.varint64() !== 0n;
    case "int32":
      return Number(BigInt.asIntN(32, r.varint64()));
    case "uint32":
      return Number(BigInt.asUintN(32, r.varint64()));
    case "int64":
      return BigInt.asIntN(64, r.varint64()).toString();
    case "uint64":
      return r.varint64().toString();
    case "double":
      return r.fixed(8).readDoubleLE(0);
    default:
      return r.fixed(4).readFloatLE(0);
  }
}

function isScalar(kind: string): kind is ScalarKind {
  return kind === "string" || kind === "bytes" || NUMERIC.has(kind);
}

function expectedWire(kind: ScalarKind): number {
  if (kind === "string" || kind === "bytes") return LEN;
  if (kind === "double") return FIXED64;
  if (kind === "float") return FIXED32;
  return VARINT;
}

function zeroOf(kind: string): unknown {
  switch (kind) {
    case "string":
      return "";
    case "bytes":
      return Buffer.alloc(0);
    case "bool":
      return false;
    case "int64":
    case "uint64":
      return "0";
    case "int32":
    case "uint32":
    case "double":
    case "float":
      return 0;
    default:
      return null;
  }
}

class Reader {
  pos = 0;
  private readonly buf: Buffer;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  /** A varint that fits 32 bits (tags and lengths). */
  varint(): number {
    const v = this.varint64();
    if (v > 0xffffffffn) throw new ProtoDecodeError("a tag or length is larger than 32 bits");
    return Number(v);
  }

  varint64(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new ProtoDecodeError("the message is truncated inside a varint");
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw new ProtoDecodeError("a varint is longer than 10 bytes");
  }

  length(): number {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new ProtoDecodeError("a length-delimited field is truncated");
    return n;
  }

  bytes(): Buffer {
    const n = this.length();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  fixed(n: number): Buffer {
    if (this.pos + n > this.buf.length)
      throw new ProtoDecodeError("the message is truncated inside a fixed field");
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint64();
    else if (wire === FIXED64) this.fixed(8);
    else if (wire === LEN) this.bytes();
    else if (wire === FIXED32) this.fixed(4);
    else throw new ProtoDecodeError(`wire type ${wire} is not supported (groups are proto2 only)`);
  }
}

/** Bytes go to `out` until a nested message needs its length first: then the writer recurses into a fresh one. */
class Writer {
  constructor(
    readonly out: number[],
    readonly chunks: Buffer[],
  ) {}

  varint(v: bigint | number): void {
    let n = BigInt.asUintN(64, BigInt(v));
    while (n >= 0x80n) {
      this.out.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.out.push(Number(n));
  }

  tag(no: number, wire: number): void {
    this.varint((no << 3) | wire);
  }

  raw(bytes: Buffer): void {
    this.varint(bytes.length);
    flush(this.out, this.chunks);
    this.chunks.push(bytes);
  }
}

function flush(out: number[], chunks: Buffer[]): void {
  if (out.length === 0) return;
  chunks.push(Buffer.from(out));
  out.length = 0;
}

function writeMessage(schema: Schema, type: string, value: Record<string, unknown>, w: Writer): void {
  for (const f of fieldsOf(schema, type)) {
    const v = value[f.name];
    if (v === undefined || v === null) continue;
    if (f.map) {
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        const entry = new Writer([], []);
        writeField(schema, 1, f.map, k, entry, true);
        writeField(schema, 2, f.kind, item, entry, true);
        flush(entry.out, entry.chunks);
        w.tag(f.no, LEN);
        w.raw(Buffer.concat(entry.chunks));
      }
    } else if (f.repeated) {
      const items = v as unknown[];
      if (items.length === 0) continue;
      if (NUMERIC.has(f.kind)) {
        const packed = new Writer([], []);
        for (const item of items) writeScalar(f.kind as ScalarKind, item, packed);
        flush(packed.out, packed.chunks);
        w.tag(f.no, LEN);
        w.raw(Buffer.concat(packed.chunks));
      } else for (const item of items) writeField(schema, f.no, f.kind, item, w, true);
    } else writeField(schema, f.no, f.kind, v, w, f.oneof !== undefined);
  }
}

/** One field; `always` writes zero values too (repeated items, map entries and oneof members must be). */
function writeField(schema: Schema, no: number, kind: string, v: unknown, w: Writer, always: boolean): void {
  if (!isScalar(kind)) {
    const nested = new Writer([], []);
    writeMessage(schema, kind, (v ?? {}) as Record<string, unknown>, nested);
    flush(nested.out, nested.chunks);
    w.tag(no, LEN);
    w.raw(Buffer.concat(nested.chunks));
    return;
  }
  if (!always && isZero(kind, v)) return;
  w.tag(no, expectedWire(kind));
  if (kind === "string") w.raw(Buffer.from(String(v), "utf8"));
  else if (kind === "bytes") w.raw(Buffer.from(v as Uint8Array));
  else writeScalar(kind, v, w);
}

function writeScalar(kind: ScalarKind, v: unknown, w: Writer): void {
  if (kind === "double" || kind === "float") {
    const b = Buffer.alloc(kind === "double" ? 8 : 4);
    if (kind === "double") b.writeDoubleLE(Number(v));
    else b.writeFloatLE(Number(v));
    for (const x of b) w.out.push(x);
  } else if (kind === "bool") w.varint(v ? 1 : 0);
  else if (kind === "int32" || kind === "uint32")
    w.varint(kind === "int32" ? Number(v) | 0 : Number(v) >>> 0);
  else w.varint(BigInt(v as string | number | bigint));
}

function isZero(kind: ScalarKind, v: unknown): boolean {
  if (kind === "string") return v === "";
  if (kind === "bytes") return (v as Uint8Array).length === 0;
  if (kind === "bool") return !v;
  if (kind === "int64" || kind === "uint64") return BigInt(v as string | number | bigint) === 0n;
  return Number(v) === 0 && !Object.is(Number(v), -0);
}
