// The few OTLP responses the receivers send, hand-encoded: partial success for traces and logs, and
// google.rpc.Status for errors (what OTLP/HTTP clients parse from a failed response).

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function lenField(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
}

function varintField(field: number, n: number): Buffer {
  return Buffer.concat([varint(field << 3), varint(n)]);
}

/** Export{Trace,Logs}ServiceResponse: empty on full success, else partial_success {rejected, message}. */
export function exportResponse(rejected: number, message: string): Buffer {
  if (rejected === 0) return Buffer.alloc(0);
  const partial = Buffer.concat([varintField(1, rejected), lenField(2, Buffer.from(message))]);
  return lenField(1, partial);
}

/** The JSON form of the same, with the field name for traces or logs. */
export function exportResponseJson(kind: "spans" | "logRecords", rejected: number, message: string): string {
  if (rejected === 0) return "{}";
  const key = kind === "spans" ? "rejectedSpans" : "rejectedLogRecords";
  return JSON.stringify({ partialSuccess: { [key]: String(rejected), errorMessage: message } });
}

/** google.rpc.Status {code, message} as protobuf. */
export function statusProto(code: number, message: string): Buffer {
  return Buffer.concat([varintField(1, code), lenField(2, Buffer.from(message))]);
}

/** gRPC status codes used by the receivers (also in google.rpc.Status bodies). */
export const RPC_INVALID_ARGUMENT = 3;
export const RPC_RESOURCE_EXHAUSTED = 8;
export const RPC_UNAVAILABLE = 14;
