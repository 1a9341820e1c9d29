// weft.v1.LogBatch and PushLogsResponse (proto/weft/v1/telemetry.proto) encoded by hand: protobufjs'
// fromObject + encode built and walked an object graph per line. This writes the same message
// straight from ShippedLine into one growing buffer (protobuf-writer.ts); building it as strings
// first made a rope node per field, a visible share of a sidecar's allocation and GC.
import type { ShippedLine } from "./log-shipper";
import { Writer } from "./protobuf-writer";

const DIGITS = /^\d{1,19}$/;

/** A decimal uint64 as a varint; nothing for 0 or garbage. Up to 19 digits (every time until
 * 2286) is read as seconds and nanoseconds, exact in doubles; longer ones take BigInt, which
 * wraps them to 64 bits. */
function u64Field(w: Writer, tag: number, decimal: string): void {
  if (decimal === "0" || decimal === "") return;
  if (DIGITS.test(decimal)) {
    const cut = decimal.length - 9;
    const sec = cut > 0 ? Number(decimal.slice(0, cut)) : 0;
    const ns = Number(cut > 0 ? decimal.slice(cut) : decimal);
    if (sec === 0 && ns === 0) return;
    w.varint(tag);
    w.nanosVarint(sec, ns);
    return;
  }
  let n: bigint;
  try {
    n = BigInt.asUintN(64, BigInt(decimal));
  } catch {
    return;
  }
  if (n === 0n) return;
  w.varint(tag);
  w.varint64(Number(n & 0xffffffffn), Number(n >> 32n));
}

/** A string field; proto3 leaves "" out. */
function field(w: Writer, tag: number, s: string): void {
  if (s.length === 0) return;
  w.varint(tag);
  w.string(s);
}

/** Milliseconds since the epoch (a fraction kept to the nanosecond) as nanoseconds, a varint; nothing for 0. */
function msField(w: Writer, tag: number, ms: number): void {
  if (!(ms > 0)) return;
  const sec = Math.floor(ms / 1000);
  w.varint(tag);
  w.nanosVarint(sec, Math.round((ms - sec * 1000) * 1e6));
}

function record(w: Writer, l: ShippedLine): void {
  if (l.timeMs !== undefined) msField(w, 0x08, l.timeMs);
  else u64Field(w, 0x08, l.timeUnixNano);
  field(w, 0x12, l.service);
  field(w, 0x1a, l.container);
  field(w, 0x22, l.instance);
  field(w, 0x2a, l.level);
  field(w, 0x32, l.source);
  field(w, 0x3a, l.message);
  field(w, 0x42, l.traceId);
  field(w, 0x4a, l.spanId);
  const attrs = l.attributes;
  for (const k in attrs) {
    const v = attrs[k] as string;
    if (w.shortAsciiMapEntry(0x52, k, v)) continue;
    w.varint(0x52);
    const entry = w.open(1);
    field(w, 0x0a, k);
    field(w, 0x12, v);
    w.close(entry, 1);
  }
}

/** Appends `line` as one `records` entry of a LogBatch (field 1): the shipper encodes each line as
 * it comes, so a line waiting for its batch is bytes in a buffer, not objects for the GC to move. */
export function appendLogRecord(w: Writer, line: ShippedLine): void {
  w.varint(0x0a);
  const at = w.open(2);
  record(w, line);
  w.close(at, 2);
}

/** A LogBatch from its encoded records and the count of lines dropped since the last batch. */
export function logBatch(records: Buffer, droppedSinceLast: number): Buffer {
  if (droppedSinceLast <= 0) return records;
  const w = new Writer(11);
  w.varint(0x10);
  w.varint(droppedSinceLast);
  return Buffer.concat([records, w.buf.subarray(0, w.pos)]);
}

/** `PushLogsResponse { accepted = 1, dropped = 2 }`; unknown fields are skipped. */
export function decodePushLogsResponse(buf: Buffer): { accepted: number; dropped: number } {
  const out = { accepted: 0, dropped: 0 };
  let pos = 0;
  const varint = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (pos >= buf.length) throw new Error("truncated PushLogsResponse");
      const b = buf[pos++] as number;
      n += (b & 127) * mul;
      if (b < 128) return n;
      mul *= 128;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) {
      const v = varint();
      if (tag >>> 3 === 1) out.accepted = v;
      else if (tag >>> 3 === 2) out.dropped = v;
    } else if (wire === 2) {
      const len = varint();
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`PushLogsResponse has wire type ${wire}`);
  }
  return out;
}
