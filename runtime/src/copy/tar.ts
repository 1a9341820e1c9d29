// The tar stream `weft cp` and the archive endpoints speak (Docker's GET/PUT /containers/ID/archive):
// ustar headers, with a PAX header before any whose name, link or size does not fit, as Go's
// archive/tar writes them; reading also takes GNU long names (GNU tar's default format). The
// entries are read and written here as data; what they do to a filesystem is pack.ts and extract.ts.

export type EntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

export interface TarEntry {
  /** Relative, "/"-separated, no trailing slash ("etc/app.conf"; "." for the top directory). */
  name: string;
  type: EntryType;
  /** Permission bits with setuid/setgid/sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of content (files only). */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** A symlink's target, or the name of the entry a hard link repeats. */
  linkname: string;
  devmajor: number;
  devminor: number;
}

const BLOCK = 512;
const MAX_EXTENDED_HEADER_BYTES = 1024 * 1024;
const TYPE_FLAGS: Record<EntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

export class TarFormatError extends Error {
  override name = "TarFormatError";
}

// ---- writing ----

/** The header block(s) of one entry: a PAX header first when a value does not fit ustar's fields. */
export function entryHeader(e: TarEntry): Buffer {
  const name = e.type === "dir" && e.name !== "." ? `${e.name}/` : e.name;
  const pax: Record<string, string> = {};
  const split = splitName(name);
  if (!split) pax.path = name;
  if (Buffer.byteLength(e.linkname) > 100) pax.linkpath = e.linkname;
  if (e.size > 0o77777777777) pax.size = String(e.size);
  if (e.uid > 0o7777777) pax.uid = String(e.uid);
  if (e.gid > 0o7777777) pax.gid = String(e.gid);
  const block = ustar(e, split ?? { prefix: "", name: truncateUtf8(name, 100) });
  if (Object.keys(pax).length === 0) return block;
  const records = Buffer.from(
    Object.entries(pax)
      .map(([k, v]) => paxRecord(k, v))
      .join(""),
  );
  const paxHeader = ustar(
    { ...e, type: "file", size: records.length, linkname: "", uid: 0, gid: 0 },
    { prefix: "", name: truncateUtf8(`PaxHeaders/${name}`, 100) },
    "x",
  );
  return Buffer.concat([paxHeader, records, padding(records.length), block]);
}

/** Zeros that fill the last block of `size` bytes of content. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? EMPTY : Buffer.alloc(BLOCK - rest);
}

/** Two zero blocks: the end of an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
const EMPTY = Buffer.alloc(0);

function ustar(e: TarEntry, n: { prefix: string; name: string }, typeflag = TYPE_FLAGS[e.type]): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(n.name, 0, 100, "utf8");
  octal(b, 100, 8, e.mode & 0o7777);
  octal(b, 108, 8, Math.min(e.uid, 0o7777777));
  octal(b, 116, 8, Math.min(e.gid, 0o7777777));
  octal(b, 124, 12, e.size > 0o77777777777 ? 0 : e.size);
  octal(b, 136, 12, Math.max(0, Math.floor(e.mtime)));
  b.write(typeflag, 156, 1, "ascii");
  b.write(truncateUtf8(e.linkname, 100), 157, 100, "utf8");
  b.write("ustar\u000000", 257, 8, "ascii");
  octal(b, 329, 8, e.devmajor);
  octal(b, 337, 8, e.devminor);
  b.write(n.prefix, 345, 155, "utf8");
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  octal(b, 148, 7, sum);
  return b;
}

function octal(b: Buffer, at: number, width: number, v: number): void {
  b.write(v.toString(8).padStart(width - 1, "0"), at, width - 1, "ascii");
}

/** ustar's name (100 bytes) and prefix (155), split at a "/"; undefined when the name cannot fit. */
function splitName(name: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: "", name };
  for (let i = name.indexOf("/"); i > 0; i = name.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== "")
      return { prefix, name: rest };
  }
  return undefined;
}

function truncateUtf8(s: string, bytes: number): string {
  const b = Buffer.from(s);
  return b.length <= bytes ? s : b.subarray(0, bytes).toString("utf8");
}

/** "LEN key=value\n", where LEN counts the whole record including its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(body);
  let len = bytes + String(bytes).length;
  if (String(len).length !== String(bytes).length) len = bytes + String(len).length;
  return `${len}${body}`;
}

// ---- reading ----

/** One entry as read: its header, and its content (read it, or it is skipped when the next is asked for). */
export interface ReadEntry {
  entry: TarEntry;
  body: AsyncIterable<Buffer>;
}

/** The entries of a tar stream. A stream cut short, or a header whose checksum is wrong, throws TarFormatError. */
export async function* readTar(source: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<ReadEntry> {
  const r = new ByteReader(source);
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await r.read(BLOCK);
    if (!block) return; // no end marker: GNU tar accepts this too
    if (block.every((x) => x === 0)) return;
    checkSum(block);
    const flag = String.fromCharCode(block[156] ?? 0);
    const size = number(block, 124, 12);
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      // Held whole in memory, so bounded: real ones are a few hundred bytes.
      if (size > MAX_EXTENDED_HEADER_BYTES)
        throw new TarFormatError(
          `an extended header of ${size} bytes; weft reads up to ${MAX_EXTENDED_HEADER_BYTES} (a name or link that long is not a path)`,
        );
      const data = await r.read(size + padding(size).length);
      if (!data) throw new TarFormatError("the archive ends inside an extended header");
      const content = data.subarray(0, size);
      if (flag === "x") pax = { ...pax, ...parsePax(content) };
      else if (flag === "L") longName = cString(content);
      else if (flag === "K") longLink = cString(content);
      continue; // "g" (global) holds nothing an entry needs here
    }
    const magic = block.toString("ascii", 257, 262);
    const prefix = magic === "ustar" ? cString(block.subarray(345, 500)) : "";
    const rawName = pax.path ?? longName ?? (prefix ? `${prefix}/` : "") + cString(block.subarray(0, 100));
    for (const key of ["size", "uid", "gid", "mtime"]) {
      const v = pax[key];
      if (v !== undefined && !/^\d+(\.\d+)?$/.test(v))
        throw new TarFormatError(`a PAX ${key} of "${v.slice(0, 40)}" is not a number`);
    }
    const entry: TarEntry = {
      name: cleanName(rawName),
      type: entryType(flag, rawName),
      mode: number(block, 100, 8) & 0o7777,
      uid: pax.uid !== undefined ? Number(pax.uid) : number(block, 108, 8),
      gid: pax.gid !== undefined ? Number(pax.gid) : number(block, 116, 8),
      size: pax.size !== undefined ? Number(pax.size) : size,
      mtime: pax.mtime !== undefined ? Math.floor(Number(pax.mtime)) : number(block, 136, 12),
      linkname: pax.linkpath ?? longLink ?? cString(block.subarray(157, 257)),
      devmajor: number(block, 329, 8),
      devminor: number(block, 337, 8),
    };
    pax = {};
    longName = undefined;
    longLink = undefined;
    // Only regular files carry content (GNU tar reads links, directories and devices the same way).
    const contentBytes = entry.type === "file" ? entry.size : 0;
    let left = contentBytes;
    const body = (async function* () {
      while (left > 0) {
        const chunk = await r.some(left);
        if (!chunk) throw new TarFormatError(`the archive ends inside ${entry.name}`);
        left -= chunk.length;
        yield chunk;
      }
    })();
    yield { entry, body };
    while (left > 0) {
      const chunk = await r.some(left);
      if (!chunk) throw new TarFormatError(`the archive ends inside ${entry.name}`);
      left -= chunk.length;
    }
    if (!(await r.read(padding(contentBytes).length)))
      throw new TarFormatError(`the archive ends inside ${entry.name}`);
  }
}

function entryType(flag: string, name: string): EntryType {
  switch (flag) {
    case "0":
    case "\0":
    case "7":
      // Old tars mark directories only by the trailing slash.
      return name.endsWith("/") ? "dir" : "file";
    case "1":
      return "hardlink";
    case "2":
      return "symlink";
    case "3":
      return "char";
    case "4":
      return "block";
    case "5":
      return "dir";
    case "6":
      return "fifo";
    default:
      throw new TarFormatError(`unsupported tar entry type "${flag}" for ${name}`);
  }
}

/** "./a//b/" -> "a/b"; "./" -> "."; a leading "/" is dropped (extract.ts refuses ".." that leads out). */
export function cleanName(raw: string): string {
  const parts: string[] = [];
  for (const p of raw.split("/")) {
    if (p === "" || p === ".") continue;
    parts.push(p);
  }
  return parts.length === 0 ? "." : parts.join("/");
}

function checkSum(block: Buffer): void {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  if (number(block, 148, 8) !== sum)
    throw new TarFormatError("not a tar archive (a header's checksum is wrong); send an uncompressed tar");
}

/** An octal field, or GNU's base-256 when its first byte has the high bit set. */
function number(b: Buffer, at: number, width: number): number {
  const first = b[at] as number;
  if (first & 0x80) {
    let v = first & 0x7f;
    for (let i = 1; i < width; i++) v = v * 256 + (b[at + i] as number);
    return v;
  }
  const text = b
    .toString("ascii", at, at + width)
    .replace(/[\0 ]+$/, "")
    .trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`not a tar archive (a number field holds "${text}")`);
  return Number.parseInt(text, 8);
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString("utf8", 0, end < 0 ? b.length : end);
}

function parsePax(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < b.length) {
    const space = b.indexOf(0x20, at);
    const len = Number(b.toString("ascii", at, space));
    if (space < 0 || !Number.isInteger(len) || len <= 0 || at + len > b.length)
      throw new TarFormatError("not a tar archive (a PAX record is malformed)");
    const record = b.toString("utf8", space + 1, at + len - 1);
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}

/** Exact reads over a stream of chunks of any size. */
class ByteReader {
  private readonly it: AsyncIterator<Buffer>;
  private buf: Buffer = EMPTY;
  private done = false;

  constructor(source: AsyncIterable<Buffer> | Iterable<Buffer>) {
    this.it =
      Symbol.asyncIterator in source
        ? source[Symbol.asyncIterator]()
        : (async function* () {
            yield* source;
          })();
  }

  /** Exactly n bytes; undefined when the stream ends first (or n is 0: an empty buffer). */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.buf.length < n) {
      if (!(await this.fill())) return undefined;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Between 1 and `max` bytes, whatever is at hand; undefined at the end of the stream. */
  async some(max: number): Promise<Buffer | undefined> {
    if (this.buf.length === 0 && !(await this.fill())) return undefined;
    const out = this.buf.subarray(0, Math.min(max, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.it.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }
}
