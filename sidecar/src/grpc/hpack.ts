// HPACK (RFC 7541) for the sidecar's own HTTP/2 client. The decoder is complete, because the server's
// encoder may use every representation; the encoder never indexes, so the client has no table to keep in
// step with the server's view of it.
import { HpackError } from "./hpack-error";
import { huffmanDecode } from "./huffman";

export { HpackError };

type Field = [string, string];

/** RFC 7541 Appendix A; HPACK index i is STATIC_TABLE[i - 1]. */
const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/** RFC 7541 §4.1: an entry's size is its octets plus 32. Strings here are latin1, one char per octet. */
function entrySize(name: string, value: string): number {
  return name.length + value.length + 32;
}

/** Larger integers are refused: no legitimate length, index or table size comes near 2^31. */
const MAX_INTEGER = 2 ** 31 - 1;

/** A cursor over one header block; every read checks the bounds, so a truncated block is an HpackError. */
class BlockReader {
  private pos = 0;
  constructor(private readonly block: Buffer) {}

  get done(): boolean {
    return this.pos >= this.block.length;
  }

  peek(): number {
    return this.block[this.pos]!;
  }

  /** RFC 7541 §5.1: an integer in the low `prefixBits` of the current octet, continued 7 bits per octet. */
  integer(prefixBits: number): number {
    if (this.done) throw new HpackError("header block truncated in an integer");
    const max = (1 << prefixBits) - 1;
    let value = this.block[this.pos++]! & max;
    if (value < max) return value;
    // Five continuation octets carry 35 bits, more than MAX_INTEGER needs even with a zero-padded encoding.
    for (let shift = 0; shift <= 28; shift += 7) {
      if (this.done) throw new HpackError("header block truncated in an integer");
      const octet = this.block[this.pos++]!;
      value += (octet & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw new HpackError("integer in header block exceeds 2^31");
      if ((octet & 0x80) === 0) return value;
    }
    throw new HpackError("integer in header block has too many continuation octets");
  }

  /** RFC 7541 §5.2: a length-prefixed string, Huffman-coded when the high bit is set. */
  string(): string {
    const huffman = !this.done && (this.peek() & 0x80) !== 0;
    const length = this.integer(7);
    if (length > this.block.length - this.pos) throw new HpackError("header block truncated in a string");
    const bytes = this.block.subarray(this.pos, this.pos + length);
    this.pos += length;
    return huffman ? huffmanDecode(bytes) : bytes.toString("latin1");
  }
}

export class HpackDecoder {
  /** Newest first, so HPACK index 62 is dynamic[0]. */
  private readonly dynamic: Field[] = [];
  private size = 0;
  /** The size the server's encoder last chose (via a size update); starts at what we advertise. */
  private capacity: number;

  /**
   * maxTableSize: the SETTINGS_HEADER_TABLE_SIZE we advertise (default 4096); a size update above it is an
   * error. maxListBytes bounds the decoded list (name+value+32 per field, as SETTINGS_MAX_HEADER_LIST_SIZE
   * counts); over it: HpackError. Default 64 KiB.
   */
  constructor(
    private readonly maxTableSize = 4096,
    private readonly maxListBytes = 64 * 1024,
  ) {
    this.capacity = maxTableSize;
  }

  /** Octets the dynamic table holds now (RFC 7541 §4.1), for tests and diagnostics. */
  get tableSize(): number {
    return this.size;
  }

  /**
   * Decodes one complete header block (HEADERS + CONTINUATION payloads joined), fields in order, names as
   * sent. Throws HpackError on anything malformed; the connection is then unusable (the table may be torn).
   */
  decode(block: Buffer): Array<[string, string]> {
    const reader = new BlockReader(block);
    const fields: Field[] = [];
    let listBytes = 0;
    while (!reader.done) {
      const first = reader.peek();
      let field: Field;
      if (first & 0x80) {
        // §6.1 indexed header field.
        const index = reader.integer(7);
        if (index === 0) throw new HpackError("indexed header field with index 0");
        field = this.lookup(index);
      } else if (first & 0x40) {
        // §6.2.1 literal with incremental indexing.
        field = this.literal(reader, 6);
        this.insert(field);
      } else if (first & 0x20) {
        // §6.3 dynamic table size update: §4.2 allows it only at the start of a block.
        if (fields.length > 0) throw new HpackError("dynamic table size update after a header field");
        const capacity = reader.integer(5);
        if (capacity > this.maxTableSize) {
          throw new HpackError(`dynamic table size update to ${capacity} exceeds ${this.maxTableSize}`);
        }
        this.capacity = capacity;
        this.evictTo(capacity);
        continue;
      } else {
        // §6.2.2 without indexing (0000) and §6.2.3 never indexed (0001): same shape, 4-bit prefix.
        field = this.literal(reader, 4);
      }
      listBytes += entrySize(field[0], field[1]);
      if (listBytes > this.maxListBytes) {
        throw new HpackError(`header list exceeds ${this.maxListBytes} bytes`);
      }
      fields.push(field);
    }
    return fields;
  }

  /** A literal field: the name is an index (non-zero) or, when the index is 0, a string that follows. */
  private literal(reader: BlockReader, prefixBits: number): Field {
    const index = reader.integer(prefixBits);
    const name = index === 0 ? reader.string() : this.lookup(index)[0];
    return [name, reader.string()];
  }

  private lookup(index: number): Field {
    const entry = index <= STATIC_TABLE.length ? STATIC_TABLE[index - 1] : this.dynamic[index - 62];
    if (!entry) throw new HpackError(`header index ${index} is past the static and dynamic tables`);
    return [entry[0], entry[1]];
  }

  /** §4.4: evict oldest entries to make room; an entry bigger than the table just empties it. */
  private insert(field: Field): void {
    const size = entrySize(field[0], field[1]);
    this.evictTo(this.capacity - size);
    if (size > this.capacity) return;
    this.dynamic.unshift(field);
    this.size += size;
  }

  private evictTo(limit: number): void {
    while (this.size > Math.max(limit, 0)) {
      const [name, value] = this.dynamic.pop()!;
      this.size -= entrySize(name, value);
    }
  }
}

/** "name\0value" → static index of a full match; built on first encode, not at sidecar start. */
let staticFull: Map<string, number> | undefined;
/** name → lowest static index with that name. */
let staticName: Map<string, number> | undefined;

function indexStaticTable(): void {
  staticFull = new Map();
  staticName = new Map();
  STATIC_TABLE.forEach(([name, value], i) => {
    staticFull!.set(`${name}\0${value}`, i + 1);
    if (!staticName!.has(name)) staticName!.set(name, i + 1);
  });
}

/** §5.1, appended to `out`; `flags` are the representation bits above the prefix. */
function pushInteger(out: number[], value: number, prefixBits: number, flags: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/** §5.2 raw (H=0): header strings are octets, so each char is written as its latin1 byte. */
function pushString(out: number[], text: string): void {
  pushInteger(out, text.length, 7, 0);
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i) & 0xff);
}

/**
 * Encodes a header list without touching any dynamic table (so no state to keep in sync): a full static
 * match as an indexed field, a static name match as "literal without indexing, indexed name", else
 * "literal without indexing, new name"; strings raw (no Huffman). Names go out as given: HTTP/2 wants them
 * lowercase, and that is the caller's to ensure.
 */
export function encodeHeaders(headers: ReadonlyArray<readonly [string, string]>): Buffer {
  if (!staticFull || !staticName) indexStaticTable();
  const out: number[] = [];
  for (const [name, value] of headers) {
    const full = staticFull!.get(`${name}\0${value}`);
    if (full !== undefined) {
      pushInteger(out, full, 7, 0x80);
      continue;
    }
    const nameIndex = staticName!.get(name);
    if (nameIndex !== undefined) {
      pushInteger(out, nameIndex, 4, 0x00);
    } else {
      out.push(0x00);
      pushString(out, name);
    }
    pushString(out, value);
  }
  return Buffer.from(out);
}
