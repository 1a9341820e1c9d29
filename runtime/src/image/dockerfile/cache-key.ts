// The build cache's keys. A step's key is the sha256 of what decides its result: the image it starts
// from (content-addressed, so a step that missed changes every key after it), the config the commit
// writes, and what the step itself does. COPY and ADD hash the files they copy, as a tar stream with
// each header's times, owners and checksum left out: those change with a checkout or a copy and not
// what lands in the image (COPY makes the files root's, or --chown's), so a fresh clone still hits.
import { createHash, type Hash } from "node:crypto";

const BLOCK = 512;
/** The header fields ([start, end) bytes) a copy's result does not depend on. */
const IGNORED: ReadonlyArray<readonly [number, number]> = [
  [108, 124], // uid, gid
  [136, 156], // mtime, chksum
  [265, 329], // uname, gname
];

/** The key of a build step: the sha256 (hex) of its parts, in order. */
export function stepKey(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

/**
 * Hashes a tar stream's names, modes, types, links and contents into `hash`, leaving out each
 * header's uid, gid, times, owner names and checksum. Chunks may split blocks anywhere. After a PAX
 * header (a name past 255 bytes, a file past 8 GiB) the rest goes in whole: a size held there is not
 * read, so blocks can no longer be told apart; times then count, which only makes a miss likelier.
 */
export async function hashTar(hash: Hash, tar: AsyncIterable<Buffer>): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  /** Data bytes (whole blocks) still to come for the current entry; 0: the next block is a header. */
  let dataLeft = 0;
  let raw = false;
  for await (const chunk of tar) {
    if (raw) {
      hash.update(chunk);
      continue;
    }
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (pending.length - at >= BLOCK) {
      if (dataLeft > 0) {
        // Data blocks go in as they are, as many as are here.
        const n = Math.min(dataLeft, Math.floor((pending.length - at) / BLOCK) * BLOCK);
        hash.update(pending.subarray(at, at + n));
        at += n;
        dataLeft -= n;
        continue;
      }
      const header = Buffer.from(pending.subarray(at, at + BLOCK));
      if (header[156] === 0x78 || header[156] === 0x67) {
        raw = true; // "x" or "g": PAX
        hash.update(pending.subarray(at));
        at = pending.length;
        break;
      }
      at += BLOCK;
      for (const [from, to] of IGNORED) header.fill(0, from, to);
      hash.update(header);
      dataLeft = Math.ceil(entrySize(header) / BLOCK) * BLOCK;
    }
    pending = pending.subarray(at);
  }
  hash.update(pending);
}

/** A ustar header's size field (octal, or base-256 when its top bit is set); 0 for a zero block. */
function entrySize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if ((field[0] ?? 0) & 0x80) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] ?? 0);
    return n;
  }
  const text = field.toString("latin1").replace(/\0.*$/s, "").trim();
  return text === "" ? 0 : Number.parseInt(text, 8) || 0;
}
