// Its own module so that hpack.ts and huffman.ts both throw it without importing each other.

/** A malformed header block: the HTTP/2 connection must end with COMPRESSION_ERROR. */
export class HpackError extends Error {
  override name = "HpackError";
  readonly code = "COMPRESSION_ERROR";
}
