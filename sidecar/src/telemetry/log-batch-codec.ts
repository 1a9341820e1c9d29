// weft.v1.LogBatch and PushLogsResponse (proto/weft/v1/telemetry.proto) encoded by hand: protobufjs'
// fromObject + encode built and walked an object graph per line. This writes the same message
// straight from ShippedLine as "binary strings" (one char per byte: V8 concatenates such strings
// as ropes, without copying), one per record, copied into one buffer per batch.
import type { ShippedLine } from "./log-shipper";

const NON_ASCII = /[\u0080-\uffff]/;

/** The string's UTF-8 bytes as a binary string (ASCII, nearly every log field, is that already). */
function bin(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, "utf8").toString("latin1") : s;
}

function varint(n: number): string {
  if (n < 128) return String.fromCharCode(n);
  if (n < 16384) return String.fromCharCode((n & 127) | 128, n >>> 7);
  let out = "";
  let v = n;
  while (v >= 128) {
    out += String.fromCharCode((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  return out + String.fromCharCode(v);
}

/** A decimal uint64 as a varint (BigInt: nanosecond times exceed 2^53); "" for 0 or garbage. */
function u64(decimal: string): string {
  if (decimal === "0" || decimal === "") return "";
  let n: bigint;
  try {
    n = BigInt.asUintN(64, BigInt(decimal));
  } catch {
    return "";
  }
  let out = "";
  while (n >= 128n) {
    out += String.fromCharCode(Number(n & 127n) | 128);
    n >>= 7n;
  }
  return n === 0n && out === "" ? "" : out + String.fromCharCode(Number(n));
}

/** A length-delimited field; "" for an empty string (proto3 leaves defaults out). `s` must be a
 * binary string already (see bin) or ASCII. */
function field(tag: string, s: string): string {
  return s.length === 0 ? "" : tag + varint(s.length) + s;
}

/** Map keys repeat on every line: their encoding is made once. */
const KEYS = new Map<string, string>();
function keyField(k: string): string {
  let f = KEYS.get(k);
  if (f === undefined) {
    f = field("\x0a", k);
    if (KEYS.size < 256) KEYS.set(k, f);
  }
  return f;
}

/** service, container and instance are the same on every line a sidecar sends. */
let lastSource: { service: string; container: string; instance: string; bytes: string } | undefined;
function sourceFields(l: ShippedLine): string {
  const c = lastSource;
  if (c && c.service === l.service && c.container === l.container && c.instance === l.instance)
    return c.bytes;
  const bytes =
    field("\x12", bin(l.service)) + field("\x1a", bin(l.container)) + field("\x22", bin(l.instance));
  lastSource = { service: l.service, container: l.container, instance: l.instance, bytes };
  return bytes;
}

/** One LogRecord, or undefined when a string in it is not ASCII and `asIs` keeps strings as they
 * are (rare: the caller builds it again with each string turned into its UTF-8 bytes). The check
 * runs once per record, on the line's strings alone (varints have bytes over 127). */
function record(l: ShippedLine, asIs: (s: string) => string): string | undefined {
  const time = u64(l.timeUnixNano);
  let probe = l.level + l.source + l.message + l.traceId + l.spanId;
  let rec =
    (time === "" ? "" : `\x08${time}`) +
    sourceFields(l) +
    field("\x2a", asIs(l.level)) +
    field("\x32", asIs(l.source)) +
    field("\x3a", asIs(l.message)) +
    field("\x42", asIs(l.traceId)) +
    field("\x4a", asIs(l.spanId));
  const attrs = l.attributes;
  for (const k in attrs) {
    const v = attrs[k] as string;
    probe += k + v;
    const entry = (asIs === same ? keyField(k) : field("\x0a", asIs(k))) + field("\x12", asIs(v));
    rec += `\x52${varint(entry.length)}${entry}`;
  }
  return asIs === same && NON_ASCII.test(probe) ? undefined : rec;
}

const same = (s: string): string => s;

/** The bytes of `LogBatch { records = 1, dropped_since_last = 2 }`. Records are written one by one
 * into a buffer of the right size: flattening one long rope of a whole batch cost three times
 * as much as building it. */
export function encodeLogBatch(lines: readonly ShippedLine[], droppedSinceLast: number): Buffer {
  const recs: string[] = [];
  let total = 0;
  for (const l of lines) {
    const rec = record(l, same) ?? (record(l, bin) as string);
    const framed = `\x0a${varint(rec.length)}${rec}`;
    recs.push(framed);
    total += framed.length;
  }
  const tail = droppedSinceLast > 0 ? `\x10${varint(droppedSinceLast)}` : "";
  // latin1Write: Buffer's own method behind write(s, pos, "latin1"), without its argument juggling.
  const buf = Buffer.allocUnsafe(total + tail.length) as Buffer & {
    latin1Write(s: string, at: number): number;
  };
  let pos = 0;
  for (const r of recs) pos += buf.latin1Write(r, pos);
  buf.latin1Write(tail, pos);
  return buf;
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
