import { ImageError } from "./errors";
import { execTool } from "./exec";

/** One member of a tarball as `tar -tv` describes it. */
export interface ArchiveEntry {
  /** First letter of tar's mode column: "-" file, "d" dir, "l" symlink, "h" hard link, "c"/"b" device, "p" fifo. */
  type: string;
  /** The member name exactly as stored (before any normalisation). */
  name: string;
  /** Symlink or hard-link target as stored. */
  link?: string;
  sizeBytes: number;
}

const ALLOWED_TYPES = new Set(["-", "d", "l", "h", "c", "b", "p"]);

/**
 * Lists a tarball (plain or compressed; GNU tar detects the compression) with `tar -tv`.
 * C-style quoting makes names with spaces, newlines or " -> " unambiguous; --block-number makes
 * tar report whether it met the end-of-archive marker, which is how a tarball cut short at a
 * member boundary is told apart from a complete one (tar itself exits 0 for those).
 */
export async function listArchive(
  tarPath: string,
  opts: { allowEmpty?: boolean } = {},
): Promise<ArchiveEntry[]> {
  const res = await execTool("tar", [
    "--list",
    "--verbose",
    "--block-number",
    "--numeric-owner",
    "--quoting-style=c",
    // Show names and link targets as stored; without it tar lists them with "../" and "/" stripped.
    "--absolute-names",
    "--file",
    tarPath,
  ]);
  if (res.code !== 0) {
    throw new ImageError(
      "BAD_ARCHIVE",
      `cannot read ${tarPath} as a tar archive: ${lastLines(res.stderr)}; ` +
        "make it with 'tar -C ROOTFS -cf FILE.tar .' (gzip is fine)",
    );
  }
  const lines = res.stdout.split("\n").filter((l) => l !== "");
  const last = lines.at(-1) ?? "";
  if (!/^block \d+: \*\* Block of NULs \*\*$/.test(last)) {
    throw new ImageError(
      "BAD_ARCHIVE",
      `${tarPath} is truncated or incomplete (no end-of-archive marker); copy it again or recreate it with tar`,
    );
  }
  const entries: ArchiveEntry[] = [];
  for (const line of lines.slice(0, -1)) entries.push(parseLine(line, tarPath));
  if (entries.length === 0 && !opts.allowEmpty)
    throw new ImageError("BAD_ARCHIVE", `${tarPath} is an empty archive; it holds no rootfs`);
  return entries;
}

function parseLine(line: string, tarPath: string): ArchiveEntry {
  const bad = (why: string) => new ImageError("BAD_ARCHIVE", `${tarPath}: ${why} in listing line: ${line}`);
  const body = line.replace(/^block \d+: /, "");
  const type = body[0] ?? "";
  if (!ALLOWED_TYPES.has(type)) throw bad(`unsupported member type "${type}"`);
  // Numeric owners and dates never hold a double quote, so the name starts at the first one.
  const q = body.indexOf('"');
  if (q < 0) throw bad("no quoted name");
  const fields = body.slice(0, q).trim().split(/\s+/);
  const sizeField = fields[2] ?? "";
  const sizeBytes = /^\d+$/.test(sizeField) ? Number(sizeField) : 0; // devices show "major,minor"
  const [name, end] = readCString(body, q);
  const rest = body.slice(end);
  let link: string | undefined;
  if (rest.startsWith(' -> "') || rest.startsWith(' link to "')) {
    link = readCString(body, end + rest.indexOf('"'))[0];
  } else if (rest !== "") {
    throw bad("unexpected text after the name");
  }
  if ((type === "l" || type === "h") && link === undefined) throw bad("link without a target");
  return { type, name, link, sizeBytes };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "\\": "\\",
  '"': '"',
  "?": "?",
};

/** Reads a C-quoted string starting at the opening quote; returns the value and the index after it. */
function readCString(s: string, start: number): [string, number] {
  let out = "";
  let i = start + 1;
  while (i < s.length) {
    const c = s[i] ?? "";
    if (c === '"') return [out, i + 1];
    if (c !== "\\") {
      out += c;
      i++;
      continue;
    }
    const next = s[i + 1] ?? "";
    const octal = /^[0-7]{3}/.exec(s.slice(i + 1, i + 4));
    if (octal) {
      // One char per escaped byte: names are only checked for "/" and "..", which are ASCII.
      out += String.fromCharCode(Number.parseInt(octal[0], 8));
      i += 4;
    } else if (next in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[next];
      i += 2;
    } else {
      out += next;
      i += 2;
    }
  }
  throw new Error(`unterminated quoted name in tar listing: ${s}`);
}

/** Splits a member path into its components, without "" and ".". */
function components(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/**
 * Rejects an archive whose extraction could write outside the rootfs: absolute member names, ".."
 * components, hard links whose target escapes, and members (or hard-link targets) that lie beneath
 * a symlink of the same archive (the classic "link -> /etc, then link/passwd" attack). Symlinks
 * themselves may point anywhere: they are resolved inside the container's root at run time.
 */
export function checkEntries(entries: ArchiveEntry[]): void {
  const symlinks = new Set<string>();
  const unsafe = (why: string) =>
    new ImageError("UNSAFE_PATH", `${why}; the archive must hold paths relative to the rootfs only`);
  const checkPath = (path: string, what: string) => {
    if (path.startsWith("/")) throw unsafe(`${what} "${path}" is an absolute path`);
    const parts = components(path);
    if (parts.includes("..")) throw unsafe(`${what} "${path}" has a ".." component`);
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      if (symlinks.has(prefix)) throw unsafe(`${what} "${path}" lies beneath the symlink "${prefix}"`);
    }
  };
  for (const e of entries) {
    checkPath(e.name, "member");
    if (e.type === "h" && e.link !== undefined) checkPath(e.link, `hard link target of "${e.name}"`);
    if (e.type === "l") symlinks.add(components(e.name).join("/"));
  }
}

/**
 * Extracts into an existing empty folder, keeping numeric owners, modes and file capabilities
 * (ping and friends need security.capability). Call checkEntries first.
 */
export async function extractArchive(tarPath: string, dest: string): Promise<void> {
  const res = await execTool("tar", [
    "--extract",
    "--file",
    tarPath,
    "--directory",
    dest,
    "--numeric-owner",
    "--same-owner",
    "--same-permissions",
    "--xattrs",
    "--xattrs-include=security.capability",
    "--warning=no-timestamp",
  ]);
  if (res.code !== 0) {
    throw new ImageError("BAD_ARCHIVE", `extracting ${tarPath} failed: ${lastLines(res.stderr)}`);
  }
}

function lastLines(text: string): string {
  const lines = text.trim().split("\n").slice(-3);
  return lines.join("; ") || "tar gave no reason";
}
