// OCI/Docker layer whiteouts turned into what overlayfs understands: `.wh.NAME` becomes a 0/0
// character device NAME (hides NAME of lower layers) and `.wh..wh..opq` becomes the
// trusted.overlay.opaque=y xattr on its directory (hides everything lower layers had there).
// Node can do neither (no mknod, no xattr calls), so mknod(1) and setfattr(1) do.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { ArchiveEntry } from "./archive";
import { ImageError } from "./errors";
import { execTool } from "./exec";

const PREFIX = ".wh.";
const OPAQUE = ".wh..wh..opq";

/** Converts the whiteout members of an extracted layer (found in its listing) in place. */
export async function applyWhiteouts(root: string, entries: ArchiveEntry[]): Promise<number> {
  let count = 0;
  for (const e of entries) {
    const parts = e.name.split("/").filter((c) => c !== "" && c !== ".");
    const base = parts.pop();
    if (base === undefined || !base.startsWith(PREFIX)) continue;
    const dir = join(root, ...parts);
    await rm(join(dir, base), { force: true });
    count++;
    if (base === OPAQUE) {
      await tool("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", dir], e.name);
    } else if (!base.startsWith(`${PREFIX}${PREFIX}`)) {
      // Other ".wh..wh." names are aufs bookkeeping (hard-link dirs): dropped, as Docker does.
      const target = join(dir, base.slice(PREFIX.length));
      await rm(target, { recursive: true, force: true });
      await tool("mknod", ["-m", "0000", target, "c", "0", "0"], e.name);
    }
  }
  return count;
}

async function tool(file: string, args: string[], member: string): Promise<void> {
  const res = await execTool(file, args);
  if (res.code !== 0) {
    throw new ImageError(
      "BAD_ARCHIVE",
      `cannot apply the whiteout "${member}" (${file}: ${res.stderr.trim()}); ` +
        "the state dir must be on a filesystem with device nodes and trusted.* xattrs (ext4, xfs), run as root",
    );
  }
}
