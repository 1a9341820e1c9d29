import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { ImageError } from "./errors";

const DIGEST_RE = /^sha256:([0-9a-f]{64})$/;

/** The hex of a "sha256:<64 hex>" digest; BAD_ARCHIVE naming `what` for anything else (other algorithms too). */
export function digestHex(digest: unknown, what: string): string {
  const m = typeof digest === "string" ? DIGEST_RE.exec(digest) : null;
  if (!m?.[1]) {
    throw new ImageError(
      "BAD_ARCHIVE",
      `${what} has digest ${JSON.stringify(digest)}; expected "sha256:" and 64 lower-case hex digits`,
    );
  }
  return m[1];
}

/** sha256 (hex) and length of a file's bytes; BAD_ARCHIVE naming `what` when it cannot be read. */
export async function sha256File(path: string, what = path): Promise<{ hex: string; sizeBytes: number }> {
  const hash = createHash("sha256");
  let sizeBytes = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      sizeBytes += (chunk as Buffer).length;
    }
  } catch (err) {
    throw new ImageError("BAD_ARCHIVE", `cannot read ${what}: ${(err as Error).message}`);
  }
  return { hex: hash.digest("hex"), sizeBytes };
}
