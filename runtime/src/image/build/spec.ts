// The ImageBuild spec: YAML in, a typed and validated BuildSpec out. Every error names the file, the
// field and what is allowed, so a user can fix the spec without reading this code.
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { parse } from "yaml";
import { checkImageName } from "../store";
import { BuildError } from "./errors";

export interface CopyItem {
  /** Relative to the spec's folder; never leaves it. */
  src: string;
  /** Absolute path in the image. A directory source lands as that directory's contents. */
  dest: string;
  /** Applied to every copied file and directory when set (as Docker's COPY --chmod); else kept. */
  mode?: number;
}

export interface BinaryItem {
  /** Absolute path of the executable on this host. */
  path: string;
  /** Where it goes in the image (default: the same path). */
  dest: string;
  /** Symlinks to it: a bare name lands next to dest, an absolute path anywhere. */
  links: string[];
  /** Add a link for every name `BINARY --list` prints (busybox). Default false. */
  allApplets: boolean;
}

export interface FileItem {
  dest: string;
  content: string;
  /** Default 0644. */
  mode: number;
}

export interface DirItem {
  path: string;
  /** Default 0755. */
  mode: number;
}

export interface BuildSpec {
  name: string;
  /** "scratch" or the name of an image already in the store. */
  from: string;
  copy: CopyItem[];
  binaries: BinaryItem[];
  files: FileItem[];
  dirs: DirItem[];
  /** Undefined means "inherit from the base image" (or the scratch default). */
  env?: Record<string, string>;
  cmd?: string[];
  entrypoint?: string[];
  user?: string;
  workdir?: string;
  /** "PORT/tcp" or "PORT/udp", normalised. */
  expose: string[];
  labels: Record<string, string>;
}

const TOP_FIELDS = [
  "apiVersion",
  "kind",
  "name",
  "from",
  "copy",
  "binaries",
  "files",
  "dirs",
  "env",
  "cmd",
  "entrypoint",
  "user",
  "workdir",
  "expose",
  "labels",
];

/** Reads and validates a spec file; throws BuildError BAD_SPEC naming the file and the field. */
export function loadBuildSpec(file: string): BuildSpec {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new BuildError("BAD_SPEC", `cannot read the spec ${file}: ${(err as Error).message}`);
  }
  return parseBuildSpec(text, file);
}

/** Validates spec text; `file` only names the source in error messages. */
export function parseBuildSpec(text: string, file: string): BuildSpec {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new BuildError("BAD_SPEC", `${file}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  const v = new Validator(file);
  const top = v.object(doc, "the document");
  v.onlyFields(top, TOP_FIELDS, "");
  if (top.apiVersion !== "weft.dev/v1") v.fail("apiVersion", `must be "weft.dev/v1"`, top.apiVersion);
  if (top.kind !== "ImageBuild") v.fail("kind", `must be "ImageBuild"`, top.kind);
  const name = v.string(top.name, "name");
  try {
    checkImageName(name);
  } catch {
    v.fail(
      "name",
      "must be lower-case letters, digits and . _ / : - (starting with a letter or digit)",
      name,
    );
  }
  const from = top.from === undefined ? "scratch" : v.string(top.from, "from");
  if (from !== "scratch") {
    try {
      checkImageName(from);
    } catch {
      v.fail("from", `must be "scratch" or the name of an image in the store`, from);
    }
  }
  return {
    name,
    from,
    copy: v.list(top.copy, "copy").map((item, i) => {
      const at = `copy[${i}]`;
      const o = v.object(item, at);
      v.onlyFields(o, ["src", "dest", "mode"], at);
      return {
        src: v.relativePath(o.src, `${at}.src`),
        dest: v.imagePath(o.dest, `${at}.dest`),
        mode: o.mode === undefined ? undefined : v.mode(o.mode, `${at}.mode`),
      };
    }),
    binaries: v.list(top.binaries, "binaries").map((item, i) => {
      const at = `binaries[${i}]`;
      const o = v.object(item, at);
      v.onlyFields(o, ["path", "dest", "links", "all-applets"], at);
      const path = v.imagePath(o.path, `${at}.path`);
      return {
        path,
        dest: o.dest === undefined ? path : v.imagePath(o.dest, `${at}.dest`),
        links: v.list(o.links, `${at}.links`).map((l, j) => v.linkName(l, `${at}.links[${j}]`)),
        allApplets: o["all-applets"] === undefined ? false : v.boolean(o["all-applets"], `${at}.all-applets`),
      };
    }),
    files: v.list(top.files, "files").map((item, i) => {
      const at = `files[${i}]`;
      const o = v.object(item, at);
      v.onlyFields(o, ["dest", "content", "mode"], at);
      return {
        dest: v.imagePath(o.dest, `${at}.dest`),
        content: v.string(o.content, `${at}.content`, true),
        mode: o.mode === undefined ? 0o644 : v.mode(o.mode, `${at}.mode`),
      };
    }),
    dirs: v.list(top.dirs, "dirs").map((item, i) => {
      const at = `dirs[${i}]`;
      const o = v.object(item, at);
      v.onlyFields(o, ["path", "mode"], at);
      return {
        path: v.imagePath(o.path, `${at}.path`),
        mode: o.mode === undefined ? 0o755 : v.mode(o.mode, `${at}.mode`),
      };
    }),
    env: top.env === undefined ? undefined : v.stringMap(top.env, "env"),
    cmd: top.cmd === undefined ? undefined : v.stringList(top.cmd, "cmd"),
    entrypoint: top.entrypoint === undefined ? undefined : v.stringList(top.entrypoint, "entrypoint"),
    user: top.user === undefined ? undefined : v.user(top.user),
    workdir: top.workdir === undefined ? undefined : v.imagePath(top.workdir, "workdir"),
    expose: v.list(top.expose, "expose").map((p, i) => v.port(p, `expose[${i}]`)),
    labels: top.labels === undefined ? {} : v.stringMap(top.labels, "labels"),
  };
}

/** Field checks that all throw BAD_SPEC as "FILE: FIELD must ..., got VALUE". */
class Validator {
  constructor(private readonly file: string) {}

  fail(field: string, rule: string, got: unknown): never {
    const shown = got === undefined ? "nothing" : JSON.stringify(got);
    throw new BuildError("BAD_SPEC", `${this.file}: ${field} ${rule}, got ${shown}`);
  }

  object(x: unknown, field: string): Record<string, unknown> {
    if (typeof x !== "object" || x === null || Array.isArray(x)) this.fail(field, "must be a mapping", x);
    return x as Record<string, unknown>;
  }

  onlyFields(o: Record<string, unknown>, allowed: string[], at: string): void {
    for (const key of Object.keys(o)) {
      if (!allowed.includes(key)) {
        const where = at === "" ? key : `${at}.${key}`;
        throw new BuildError(
          "BAD_SPEC",
          `${this.file}: unknown field ${where}; allowed here: ${allowed.join(", ")}`,
        );
      }
    }
  }

  list(x: unknown, field: string): unknown[] {
    if (x === undefined || x === null) return [];
    if (!Array.isArray(x)) this.fail(field, "must be a list", x);
    return x;
  }

  string(x: unknown, field: string, allowEmpty = false): string {
    if (typeof x !== "string" || (!allowEmpty && x === "")) this.fail(field, "must be a non-empty string", x);
    return x;
  }

  boolean(x: unknown, field: string): boolean {
    if (typeof x !== "boolean") this.fail(field, "must be true or false", x);
    return x;
  }

  stringList(x: unknown, field: string): string[] {
    if (!Array.isArray(x) || !x.every((s) => typeof s === "string")) {
      this.fail(field, "must be a list of strings", x);
    }
    return x as string[];
  }

  /** Numbers and booleans are accepted as values (PORT: 8080) and kept as YAML wrote them. */
  stringMap(x: unknown, field: string): Record<string, string> {
    const o = this.object(x, field);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(o)) {
      if (!/^[^=\s]+$/.test(k)) this.fail(`${field} key`, "must be a name without = or spaces", k);
      if (typeof val !== "string" && typeof val !== "number" && typeof val !== "boolean") {
        this.fail(`${field}.${k}`, "must be a string, number or boolean", val);
      }
      out[k] = String(val);
    }
    return out;
  }

  /** A quoted octal string: YAML 1.2 reads an unquoted 0755 as the decimal number 755. */
  mode(x: unknown, field: string): number {
    if (typeof x !== "string" || !/^0?[0-7]{3,4}$/.test(x)) {
      this.fail(field, `must be a quoted octal mode such as "0755" or "1777"`, x);
    }
    return Number.parseInt(x, 8);
  }

  /** An absolute path in the image, normalised; ".." components are refused rather than resolved. */
  imagePath(x: unknown, field: string): string {
    const s = this.string(x, field);
    if (!s.startsWith("/")) this.fail(field, "must be an absolute path", s);
    if (s.split("/").includes("..")) this.fail(field, `must not contain ".."`, s);
    return posix.normalize(s).replace(/(.)\/$/, "$1");
  }

  relativePath(x: unknown, field: string): string {
    const s = this.string(x, field);
    const norm = posix.normalize(s);
    if (s.startsWith("/") || norm === ".." || norm.startsWith("../")) {
      throw new BuildError(
        "UNSAFE_PATH",
        `${this.file}: ${field} must be a path inside the spec's folder (relative, no escaping ..), got ${JSON.stringify(s)}`,
      );
    }
    return norm.replace(/(.)\/$/, "$1");
  }

  linkName(x: unknown, field: string): string {
    const s = this.string(x, field);
    if (s.startsWith("/")) return this.imagePath(s, field);
    if (s.includes("/") || s === "." || s === "..") {
      this.fail(field, "must be a bare name (placed next to dest) or an absolute path", s);
    }
    return s;
  }

  user(x: unknown): string {
    if (typeof x === "number" && Number.isInteger(x) && x >= 0) return String(x);
    const s = this.string(x, "user");
    if (!/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/.test(s))
      this.fail("user", `must be "UID[:GID]" or a name`, s);
    return s;
  }

  port(x: unknown, field: string): string {
    const s = typeof x === "number" ? String(x) : this.string(x, field);
    const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(s);
    const n = m ? Number(m[1]) : 0;
    if (!m || n < 1 || n > 65535) this.fail(field, `must be "PORT", "PORT/tcp" or "PORT/udp" (1-65535)`, x);
    return `${n}/${m[2] ?? "tcp"}`;
  }
}
