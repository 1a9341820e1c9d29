// `weft cp`: files between a container and the host, as docker cp copies them. The daemon only reads
// and writes inside the container (/containers/ID/archive, api/archive.ts); naming is decided here,
// by docker's rules: into an existing directory a copy keeps its name, otherwise it takes the
// destination's; "DIR/." copies a directory's contents; "-" is a tar on stdin or stdout.
import { lstatSync, realpathSync, statSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { basename, dirname, posix, resolve as resolvePath } from "node:path";
import { Readable } from "node:stream";
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import { PATH_STAT_HEADER } from "../api/archive";
import type { EngineClient } from "../api/client";
import { ContainerFs } from "../copy/container-fs";
import { extractInto } from "../copy/extract";
import { isDirMode, isSymlinkMode, type PathStat, packPath } from "../copy/pack";
import { clientFor, HOST_FLAG, HOST_USAGE, ref } from "./client";
import { decimalSize } from "./stats";

const USAGE = `Usage:
  weft cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-
  weft cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH

Copy files and directories between a container and the host, running or stopped (as docker cp).
Into an existing directory a copy keeps its name; otherwise it is given DEST_PATH's name.
SRC_PATH ending in /. copies a directory's contents. '-' reads or writes a tar stream.
Volumes and bind mounts are copied through. /proc, /sys, /dev and --tmpfs mounts exist only inside the
running container: a copy into or out of them is refused (docker cp would land under the mount).

Options:
  -a, --archive          keep uid/gid (default: the container's root owns what is copied in)
  -L, --follow-link      follow a symlink at SRC_PATH
  -q, --quiet            do not print what was copied
${HOST_USAGE}`;

/** A CLI argument: a container's path ("web:/etc/app.conf") or a local one. */
interface CpArg {
  container?: string;
  path: string;
}

/** docker's rule: a path starting with "/" or "." is local, so a local name with a colon is written ./a:b. */
export function parseCpArg(arg: string): CpArg {
  if (arg.startsWith("/") || arg.startsWith(".")) return { path: arg };
  const colon = arg.indexOf(":");
  if (colon <= 0) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

export const cpCommand: Command = {
  name: "cp",
  summary: "Copy files between a container and the host",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...HOST_FLAG,
      archive: { type: "boolean", short: "a" },
      "follow-link": { type: "boolean", short: "L" },
      quiet: { type: "boolean", short: "q" },
    });
    if (positionals.length !== 2) throw new UsageError("weft cp takes a source and a destination");
    const src = parseCpArg(positionals[0] as string);
    const dst = parseCpArg(positionals[1] as string);
    if (src.container && dst.container) throw new UsageError("copying between containers is not supported");
    if (!src.container && !dst.container)
      throw new UsageError(
        "one of the paths must be CONTAINER:PATH (a local path with a colon is written ./a:b)",
      );
    const o = { archive: values.archive, follow: values["follow-link"], quiet: values.quiet };
    const client = clientFor(values.host);
    const copied = src.container
      ? await fromContainer(client, src as Required<CpArg>, dst.path, o)
      : await toContainer(client, src.path, dst as Required<CpArg>, o);
    const where = src.container ? dst.path : `${dst.container}:${dst.path}`;
    if (!o.quiet && where !== "-")
      process.stderr.write(`Successfully copied ${decimalSize(copied, 3)} to ${where}\n`);
    return 0;
  },
};

interface CpOptions {
  archive: boolean;
  follow: boolean;
  quiet: boolean;
}

function archivePath(container: string, path: string): string {
  return `/containers/${ref(container)}/archive?path=${encodeURIComponent(path)}`;
}

function statOf(res: IncomingMessage): PathStat {
  const raw = res.headers[PATH_STAT_HEADER.toLowerCase()];
  if (typeof raw !== "string")
    throw new Error("the daemon sent no path stat with the archive; is it a weft daemon?");
  return JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as PathStat;
}

/** Absolute in the container: a relative path is from "/", as docker cp takes it. */
function containerPath(path: string): string {
  return path.startsWith("/") ? path : `/${path}`;
}

async function fromContainer(client: EngineClient, src: Required<CpArg>, dest: string, o: CpOptions) {
  let path = containerPath(src.path);
  let res = await client.stream("GET", archivePath(src.container, path));
  let stat = statOf(res);
  const name = stat.name;
  if (o.follow && isSymlinkMode(stat.mode)) {
    res.destroy();
    path = stat.linkTarget;
    res = await client.stream("GET", archivePath(src.container, path));
    stat = statOf(res);
  }
  const meter = new Meter("Copying from container", o.quiet || dest === "-");
  const counted = meter.count(res as AsyncIterable<Buffer>);
  if (dest === "-") {
    for await (const chunk of counted) if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
    return meter.bytes;
  }
  const top = stat.name === "/" ? "." : stat.name;
  const target = resolvePath(dest);
  const there = statOrUndefined(target);
  const srcIsDir = isDirMode(stat.mode);
  let into: string;
  let rename: { from: string; to: string } | undefined;
  if (there?.isDirectory()) {
    into = target;
    // A followed link keeps the link's name, as docker cp -L.
    if (name !== top) rename = { from: top, to: name };
  } else if (there) {
    if (srcIsDir)
      throw new UsageError(`cannot copy directory ${src.container}:${src.path} onto file ${dest}`);
    into = dirname(target);
    rename = { from: top, to: basename(target) };
  } else {
    if (dest.endsWith("/") && !srcIsDir)
      throw new UsageError(`the destination directory ${dest} does not exist; create it first`);
    into = dirname(target);
    if (!statOrUndefined(into)?.isDirectory())
      throw new UsageError(`the destination's directory ${into} does not exist; create it first`);
    rename = { from: top, to: basename(target) };
  }
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  // Confined: a container's archive must not reach past the destination through its own symlinks.
  await extractInto(hostFiles(), into, counted, {
    copyUidGid: o.archive,
    owner: { uid, gid },
    rename,
    confine: true,
  });
  meter.done();
  return meter.bytes;
}

async function toContainer(client: EngineClient, src: string, dst: Required<CpArg>, o: CpOptions) {
  const path = containerPath(dst.path);
  const query = o.archive ? "&copyUIDGID=1" : "";
  if (src === "-") {
    const res = await client.duplex(
      "PUT",
      `${archivePath(dst.container, path)}&noOverwriteDirNonDir=1${query}`,
      process.stdin,
    );
    res.resume();
    return 0;
  }
  const local = resolvePath(src);
  const st = o.follow ? statOrUndefined(local) : lstatOrUndefined(local);
  if (!st) throw new UsageError(`no such file or directory: ${src}`);
  // What is at the destination decides the name; a missing one is created under its parent.
  let there: PathStat | undefined;
  try {
    there = await statInContainer(client, dst.container, path);
  } catch (err) {
    if ((err as { status?: number }).status !== 404) throw err;
  }
  let into: string;
  let as: string | undefined;
  const contents = src === "." || src.endsWith("/.");
  if (
    there &&
    (isDirMode(there.mode) ||
      (isSymlinkMode(there.mode) && (await isDirInContainer(client, dst.container, there))))
  ) {
    into = path;
    as = contents ? "." : basename(local);
  } else if (there) {
    if (st.isDirectory())
      throw new UsageError(`cannot copy directory ${src} onto file ${dst.container}:${dst.path}`);
    into = posix.dirname(path);
    as = posix.basename(path);
  } else {
    if (dst.path.endsWith("/"))
      throw new UsageError(
        `the destination directory ${dst.container}:${dst.path} does not exist; create it first`,
      );
    into = posix.dirname(path);
    as = posix.basename(path);
  }
  // With -L the link's target is copied under the link's name.
  const source = o.follow ? realpathSync(local) : local;
  const { tar } = packPath(hostFiles(), source, as);
  const meter = new Meter("Copying to container", o.quiet);
  const res = await client.duplex(
    "PUT",
    `${archivePath(dst.container, into)}&noOverwriteDirNonDir=1${query}`,
    Readable.from(meter.count(tar)),
  );
  res.resume();
  await once(res, "end");
  meter.done();
  return meter.bytes;
}

async function statInContainer(client: EngineClient, container: string, path: string): Promise<PathStat> {
  const res = await client.stream("HEAD", archivePath(container, path));
  res.resume();
  return statOf(res);
}

async function isDirInContainer(client: EngineClient, container: string, link: PathStat): Promise<boolean> {
  try {
    return isDirMode((await statInContainer(client, container, link.linkTarget)).mode);
  } catch {
    return false;
  }
}

function hostFiles(): ContainerFs {
  return new ContainerFs({ name: "this host", rootfs: "/", mounts: [], readOnlyRoot: false });
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function once(emitter: NodeJS.EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

/** Counts the bytes of a copy; on a terminal, shows them as they go ("Copying to container - 12.3MB"). */
class Meter {
  bytes = 0;
  private shownAt = 0;
  private readonly live: boolean;

  constructor(
    private readonly label: string,
    quiet: boolean,
  ) {
    this.live = !quiet && process.stderr.isTTY === true;
  }

  async *count(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      this.bytes += chunk.length;
      const now = Date.now();
      if (this.live && now - this.shownAt >= 100) {
        this.shownAt = now;
        process.stderr.write(`\r\x1b[2K${this.label} - ${decimalSize(this.bytes, 3)}`);
      }
      yield chunk;
    }
  }

  /** Clears the line the progress was on. */
  done(): void {
    if (this.live && this.shownAt > 0) process.stderr.write("\r\x1b[2K");
  }
}
