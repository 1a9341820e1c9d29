// `weft build -t NAME [PATH]`: docker build's classic builder through the daemon. The folder (minus
// what its .dockerignore leaves out) goes to the daemon as a tar, as the docker CLI sends it; the
// daemon runs the Dockerfile (image/dockerfile/build.ts) and streams Docker's JSON messages back,
// which are printed as they come.
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { join, posix, resolve } from "node:path";
import { Readable } from "node:stream";
import { type Command, keyValues, parseFlags, UsageError } from "../../../cli/index";
import { END_OF_ARCHIVE, entryHeader, padding, type TarEntry } from "../copy/tar";
import { clientFor, confirm, HOST_FLAG, HOST_USAGE } from "./client";
import { decimalSize } from "./stats";

const USAGE = `Usage: weft build -t NAME[:TAG] [OPTIONS] [PATH]

Builds an image from a Dockerfile, as 'docker build' does with the classic builder: each RUN runs in a
container made from the image so far and each step is a layer. PATH (default .) is the build context;
its .dockerignore leaves files out. FROM images must be in the store already (weft does not pull). A
step already run on the same image with the same inputs (for COPY and ADD, the same files) is taken
from the build cache ('weft builder prune' empties it). (An image from an ImageBuild spec, without a
Dockerfile: 'weft image build -f'.)

Options:
  -t, --tag NAME[:TAG]     the image's name (repeat for more names; one is required)
  -f, --file PATH          the Dockerfile (default PATH/Dockerfile)
  --build-arg NAME=VALUE   a value for an ARG (repeatable)
  --label KEY=VALUE        a label on the image (repeatable)
  --target STAGE           build up to this stage (FROM ... AS STAGE)
  -q, --quiet              print only the image's id
  --no-cache               run every step, taking none from the build cache
${HOST_USAGE}`;

export const buildCommand: Command = {
  name: "build",
  summary: "Build an image from a Dockerfile (weft build -t NAME .)",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      tag: { type: "string", short: "t", multiple: true },
      file: { type: "string", short: "f" },
      "build-arg": { type: "string", multiple: true },
      label: { type: "string", multiple: true },
      target: { type: "string" },
      quiet: { type: "boolean", short: "q" },
      "no-cache": { type: "boolean" },
      ...HOST_FLAG,
    });
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const tags = values.tag ?? [];
    if (tags.length === 0) throw new UsageError("missing -t NAME[:TAG]: weft keeps no unnamed images");
    const dir = resolve(positionals[0] ?? ".");
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
      throw new UsageError(`${positionals[0] ?? "."} is not a folder: give the build context's folder`);
    // -f outside the context is sent inside it, as the docker CLI does.
    let dockerfile = "Dockerfile";
    let extra: { name: string; text: Buffer } | undefined;
    if (values.file) {
      const path = resolve(values.file);
      const rel = posix.relative(dir, path);
      if (rel.startsWith("..") || rel === "") {
        dockerfile = `.weft-dockerfile-${process.pid}`;
        extra = { name: dockerfile, text: readFileSync(path) };
      } else dockerfile = rel;
    }
    const q = new URLSearchParams();
    for (const t of tags) q.append("t", t);
    q.set("dockerfile", dockerfile);
    q.set("buildargs", JSON.stringify(keyValues("--build-arg", values["build-arg"] ?? [])));
    q.set("labels", JSON.stringify(keyValues("--label", values.label ?? [])));
    if (values.target) q.set("target", values.target);
    if (values.quiet) q.set("q", "1");
    if (values["no-cache"]) q.set("nocache", "1");
    const ignore = dockerIgnore(dir, dockerfile);
    const body = Readable.from(contextTar(dir, ignore, extra));
    const res = await clientFor(values.host).duplex("POST", `/images/build?${q}`, body);
    let failed: string | undefined;
    let pending = "";
    for await (const chunk of res) {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim() === "") continue;
        const m = JSON.parse(line) as { stream?: string; error?: string; aux?: { ID?: string } };
        if (m.stream !== undefined) process.stdout.write(m.stream);
        if (m.error !== undefined) failed = m.error;
      }
    }
    if (failed !== undefined) {
      process.stderr.write(`${failed}\n`);
      return 1;
    }
    return 0;
  },
};

/** A .dockerignore's rules, in order; the last that matches a path decides (a "!" rule keeps it). */
interface IgnoreRule {
  re: RegExp;
  keep: boolean;
  /** The pattern up to its first wildcard: what a path under it must start with. */
  literal: string;
}

function rule(pattern: string, keep: boolean): IgnoreRule {
  return { re: ignoreRegExp(pattern), keep, literal: pattern.split(/[*?[]/)[0] as string };
}

function dockerIgnore(dir: string, dockerfile: string): IgnoreRule[] {
  let text = "";
  try {
    text = readFileSync(join(dir, ".dockerignore"), "utf8");
  } catch {
    return [];
  }
  const rules: IgnoreRule[] = [];
  for (const raw of text.split("\n")) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const keep = line.startsWith("!");
    if (keep) line = line.slice(1).trim();
    const pattern = posix.normalize(line).replace(/^\/+|\/+$/g, "");
    if (pattern === "" || pattern === ".") continue;
    rules.push(rule(pattern, keep));
  }
  // As docker: the Dockerfile and .dockerignore are sent even when ignored (the daemon needs the former).
  rules.push(rule(dockerfile, true), rule(".dockerignore", true));
  return rules;
}

/** Go's filepath.Match per path part, plus "**" for any number of parts; a match also covers what is under it. */
function ignoreRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
      if (pattern[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}(/.*)?$`);
}

/** A "!" rule may keep something under the folder `rel`, so an ignored `rel` is still walked. */
function mayKeepUnder(rules: IgnoreRule[], rel: string): boolean {
  const dir = `${rel}/`;
  return rules.some((r) => r.keep && (r.literal.startsWith(dir) || dir.startsWith(r.literal)));
}

function ignored(rules: IgnoreRule[], rel: string): boolean {
  let out = false;
  for (const r of rules) if (r.re.test(rel)) out = !r.keep;
  return out;
}

/** The folder as a tar (entries relative to it), without what .dockerignore leaves out. */
async function* contextTar(
  dir: string,
  rules: IgnoreRule[],
  extra: { name: string; text: Buffer } | undefined,
): AsyncGenerator<Buffer> {
  const walk = function* (rel: string): Generator<{ rel: string; st: Stats }> {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const child = rel === "" ? name : `${rel}/${name}`;
      const st = lstatSync(join(dir, child));
      const skip = ignored(rules, child);
      if (!skip) yield { rel: child, st };
      if (st.isDirectory() && (!skip || mayKeepUnder(rules, child))) yield* walk(child);
    }
  };
  for (const { rel, st } of walk("")) {
    const path = join(dir, rel);
    const base: TarEntry = {
      name: rel,
      type: "file",
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: 0,
      mtime: Math.floor(st.mtimeMs / 1000),
      linkname: "",
      devmajor: 0,
      devminor: 0,
    };
    if (st.isDirectory()) yield entryHeader({ ...base, type: "dir" });
    else if (st.isSymbolicLink())
      yield entryHeader({ ...base, type: "symlink", linkname: readlinkSync(path) });
    else if (st.isFile()) {
      yield entryHeader({ ...base, size: st.size });
      yield* fileChunks(path, st.size);
      yield padding(st.size);
    }
  }
  if (extra) {
    const now = Math.floor(Date.now() / 1000);
    yield entryHeader({
      name: extra.name,
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: extra.text.length,
      mtime: now,
      linkname: "",
      devmajor: 0,
      devminor: 0,
    });
    yield extra.text;
    yield padding(extra.text.length);
  }
  yield END_OF_ARCHIVE;
}

/** Exactly `size` bytes of the file, read a chunk at a time (a file that shrank meanwhile is an error). */
async function* fileChunks(path: string, size: number): AsyncGenerator<Buffer> {
  const file = await open(path, "r");
  try {
    for (let at = 0; at < size; ) {
      const { bytesRead, buffer } = await file.read(
        Buffer.alloc(Math.min(64 * 1024, size - at)),
        0,
        undefined,
        at,
      );
      if (bytesRead === 0) throw new Error(`${path} shrank while it was sent; build again`);
      yield buffer.subarray(0, bytesRead);
      at += bytesRead;
    }
  } finally {
    await file.close();
  }
}

export const builderPruneCommand: Command = {
  name: "builder prune",
  summary: "Empty the build cache",
  usage: `Usage: weft builder prune [-f]

Removes every step the build cache holds, and the layers only it kept, as docker builder prune
--all. The next build runs each of its steps again. Images keep their layers.

Options:
  -f, --force   do not ask first
${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      force: { type: "boolean", short: "f" },
      ...HOST_FLAG,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (!values.force && !(await confirm("WARNING! This will remove all build cache."))) return 0;
    const pruned = await clientFor(values.host).json<{ entries: number; bytes: number }>(
      "POST",
      "/build/prune",
    );
    process.stdout.write(
      `Deleted build cache objects: ${pruned.entries}\nTotal reclaimed space: ${decimalSize(pruned.bytes, 3)}\n`,
    );
    return 0;
  },
};
