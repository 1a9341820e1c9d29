// HTTP/2 frames (RFC 9113 section 4 and 6) as the sidecar's client writes and reads them: the
// constants, the 9-byte header, and the few payload layouts it builds.

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
export const Frame = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;
export const END_STREAM = 0x1;
export const ACK = 0x1;
export const END_HEADERS = 0x4;
export const PADDED = 0x8;
export const PRIORITY = 0x20;

/** HTTP/2 error codes (RFC 9113 section 7) that this client sends or names. */
export const H2Code = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  FLOW_CONTROL_ERROR: 3,
  FRAME_SIZE_ERROR: 6,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
} as const;

export const SETTINGS_ENABLE_PUSH = 2;
export const SETTINGS_INITIAL_WINDOW_SIZE = 4;
export const SETTINGS_MAX_FRAME_SIZE = 5;

/** The largest frame we accept: the protocol's default, which we never raise. */
export const MAX_FRAME = 16_384;
/** Receive windows we give the server, per stream and for the connection: large, so a big config push never waits on us. */
export const RECEIVE_WINDOW = 16 * 1024 * 1024;
/** Consumed bytes are handed back in WINDOW_UPDATEs of at least this much, not one per frame. */
export const WINDOW_REFILL = 1024 * 1024;
/** Payloads shorter than this are copied behind their header (one small write beats two). */
export const COPY_BELOW_BYTES = 4096;
export const MAX_WINDOW = 2 ** 31 - 1;

/** A connection error: the session answers it with GOAWAY and closes. */
export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    what: string,
  ) {
    super(what);
  }
}

export const EMPTY = Buffer.alloc(0);

export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(9 + payload.length);
  writeFrameHeader(out, type, flags, streamId, payload.length);
  payload.copy(out, 9);
  return out;
}

/** A frame's 9-byte header alone, for a payload written after it without being copied. */
export function frameHeader(type: number, flags: number, streamId: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(9);
  writeFrameHeader(out, type, flags, streamId, length);
  return out;
}

function writeFrameHeader(out: Buffer, type: number, flags: number, streamId: number, length: number): void {
  out.writeUIntBE(length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId, 5);
}

export function settingsPayload(pairs: Array<[number, number]>): Buffer {
  const out = Buffer.allocUnsafe(pairs.length * 6);
  pairs.forEach(([id, value], i) => {
    out.writeUInt16BE(id, i * 6);
    out.writeUInt32BE(value, i * 6 + 2);
  });
  return out;
}

export function windowUpdate(streamId: number, increment: number): Buffer {
  return frame(Frame.WINDOW_UPDATE, 0, streamId, u32(increment));
}

export function u32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value, 0);
  return out;
}

/** The payload without its padding (PADDED flag: a length byte first, that many zero bytes last). */
export function unpad(flags: number, payload: Buffer): Buffer {
  if (!(flags & PADDED)) return payload;
  const pad = payload[0] ?? 0;
  if (pad >= payload.length) throw new ProtocolError(H2Code.PROTOCOL_ERROR, "padding longer than its frame");
  return payload.subarray(1, payload.length - pad);
}
