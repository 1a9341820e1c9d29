// Docker's classic builder on weft's engine (docker build, docker-compose build, POST /build, weft
// build): each RUN runs in a runc container made from the image so far, each COPY and ADD is
// unpacked into one, and that container is committed as the next layer, as Docker's classic builder
// does. The other instructions (ENV, CMD, LABEL, USER, WORKDIR...) change the config that the next
// commit writes. The image so far has a temporary name (weft-build-ID-N); those names and every
// step's container are removed at the end, whatever happened, so a failed build leaves nothing.
// Each step's result is kept in the image store's build cache, by a key of the image it starts from,
// the config it writes and what it does (cache-key.ts): the same step on the same image is not run
// again but taken from there ("Using cache"), as Docker does, unless --no-cache. Nothing reaches the
// network but what a RUN does itself.

import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  createReadStream,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { ContainerFs } from "../../copy/container-fs";
import type { ExtractOptions, ExtractResult } from "../../copy/extract";
import { isDirMode, type PathStat, packPath } from "../../copy/pack";
import { END_OF_ARCHIVE, entryHeader } from "../../copy/tar";
import type { Attached } from "../../engine/attach";
import type { CommitOptions } from "../../engine/commit";
import { resolveUser } from "../../engine/image-config";
import type { ImageInfo } from "../../engine/parts";
import type { ContainerState, RunSpec } from "../../engine/types";
import { validateRunSpec } from "../../engine/validate";
import { parseSignal } from "../../engine/validate-lifecycle";
import { RuntimeError } from "../../errors";
import { globRegExp } from "../glob";
import type { ImageConfig, ImageHealthcheck } from "../record";
import { hashTar, stepKey } from "./cache-key";
import {
  type Dockerfile,
  type Instruction,
  keyValues,
  parseDockerfile,
  type Stage,
  splitWords,
  substitute,
} from "./parse";

/** What the builder needs of the engine (the real Engine has all of it). */
export interface BuildEngine {
  create(spec: RunSpec): Promise<ContainerState>;
  start(ref: string): Promise<ContainerState>;
  attach(ref: string, signal?: AbortSignal): Attached;
  wait(ref: string): Promise<{ exitCode: number; oomKilled: boolean }>;
  kill(ref: string, signal?: string): Promise<void>;
  remove(ref: string, force?: boolean): Promise<void>;
  statPath(ref: string, path: string): PathStat;
  archive(ref: string, path: string): { stat: PathStat; tar: AsyncGenerator<Buffer> };
  extract(ref: string, dir: string, tar: AsyncIterable<Buffer>, o: ExtractOptions): Promise<ExtractResult>;
  commit(ref: string, name: string, o: CommitOptions): Promise<ImageInfo>;
  importImage(tarPath: string, name: string): Promise<ImageInfo>;
  image(ref: string): ImageInfo;
  tagImage(source: string, target: string): Promise<ImageInfo>;
  removeImage(name: string): Promise<void>;
  /** The build cache: the image a step with this key made before, named `name`; undefined on a miss. */
  cachedStep?(key: string, name: string): Promise<ImageInfo | undefined>;
  rememberStep?(key: string, id: string): Promise<void>;
}

export interface BuildRequest {
  /** The host directory holding the build context. */
  contextDir: string;
  /** The Dockerfile's path inside the context (default "Dockerfile"). */
  dockerfile?: string;
  /** Names for the result; the first is required (weft keeps no unnamed images). */
  tags: string[];
  /** --build-arg NAME=VALUE */
  buildArgs?: Record<string, string>;
  /** --label: added to the image's labels. */
  labels?: Record<string, string>;
  /** --target: the stage to stop at (default the last). */
  target?: string;
  /** --no-cache: run every step, taking nothing from the build cache (what runs is still kept in it). */
  noCache?: boolean;
  /** Stops the build: the running step's container is killed. */
  signal?: AbortSignal;
}

/** What the build prints, as docker build's classic output ("Step 2/5 : RUN make", the RUN's output). */
export type BuildProgress = (text: string) => void;

const DEFAULT_SHELL = ["/bin/sh", "-c"];
/** BuildKit's flags, which the classic builder refuses as well. */
const BUILDKIT_FLAGS = ["mount", "network", "security", "chmod", "link", "parents", "exclude"];
/** The flags each instruction takes here (FROM's --platform is read in fromImage; one platform). */
const FLAGS: Record<string, string[]> = {
  COPY: ["from", "chown"],
  ADD: ["chown"],
  HEALTHCHECK: ["interval", "timeout", "start-period", "start-interval", "retries"],
};
/** ARGs Docker defines without a declaration (proxies): given with --build-arg, they reach RUN. */
const PREDEFINED_ARGS = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
];
const SCRATCH_CONFIG: ImageConfig = {
  env: [],
  cmd: [],
  entrypoint: [],
  workdir: "",
  user: "",
  exposedPorts: [],
  labels: {},
};

function invalid(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}

/** The build of one stage: the image so far and the config its next commit writes. */
interface StageState {
  image: string;
  /** The image's id, for the progress lines. */
  imageId: string;
  config: ImageConfig;
  shell: string[];
  /** ARGs declared in this stage, with their values (undefined: declared, no value). */
  args: Map<string, string | undefined>;
  /** WORKDIRs set since the last commit, to make before the next step. */
  dirs: string[];
  /** Config changed since the last commit. */
  dirty: boolean;
  /** CMD set in this stage (an ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  author?: string;
}

/** Builds the Dockerfile in `req.contextDir`; resolves with the image named `req.tags[0]`. */
export async function buildDockerfile(
  engine: BuildEngine,
  req: BuildRequest,
  progress: BuildProgress,
): Promise<ImageInfo> {
  return new Builder(engine, req, progress).run();
}

class Builder {
  private readonly id = Math.random().toString(16).slice(2, 10);
  private readonly context: ContainerFs;
  private readonly buildArgs: Map<string, string>;
  /** The ARGs before the first FROM, with their values: a stage's bare `ARG NAME` takes its value. */
  private globals = new Map<string, string>();
  private readonly usedArgs = new Set<string>();
  /** Temporary image names made so far, removed at the end. */
  private readonly temps: string[] = [];
  /** Containers made so far and not removed yet. */
  private readonly containers = new Set<string>();
  /** Each finished stage's image, by index and by name. */
  private readonly stageImages = new Map<string, string>();
  private step = 0;
  /** The Dockerfile's escape character (# escape=). */
  private escape = "\\";
  private steps = 0;

  constructor(
    private readonly engine: BuildEngine,
    private readonly req: BuildRequest,
    private readonly out: BuildProgress,
  ) {
    this.context = new ContainerFs({
      name: "the build context",
      rootfs: req.contextDir,
      mounts: [],
      readOnlyRoot: true,
    });
    this.buildArgs = new Map(Object.entries(req.buildArgs ?? {}));
  }

  async run(): Promise<ImageInfo> {
    const tag = this.req.tags[0];
    if (tag === undefined)
      throw invalid("a build needs a name for its image (-t NAME[:TAG]): weft keeps no unnamed images");
    const file = this.readDockerfile();
    this.escape = file.escape;
    const stages = this.stagesToBuild(file);
    this.steps = stages.reduce((n, s) => n + 1 + s.instructions.length, file.globalArgs.length);
    try {
      this.globals = this.globalArgs(file);
      const globals = this.globals;
      let last: StageState | undefined;
      for (const stage of stages) {
        this.checkAborted();
        last = await this.buildStage(stage, globals);
        this.stageImages.set(String(stage.index), last.image);
        if (stage.name) this.stageImages.set(stage.name, last.image);
      }
      const final = last as StageState;
      const unused = [...this.buildArgs.keys()].filter(
        (a) => !this.usedArgs.has(a) && !PREDEFINED_ARGS.includes(a),
      );
      if (unused.length > 0)
        this.out(`[Warning] One or more build-args [${unused.join(" ")}] were not consumed\n`);
      const image = await this.finish(final, tag);
      for (const t of this.req.tags.slice(1)) await this.engine.tagImage(tag, t);
      this.out(`Successfully built ${image.id.slice(0, 12)}\n`);
      for (const t of this.req.tags) this.out(`Successfully tagged ${t}\n`);
      return image;
    } finally {
      await this.cleanUp();
    }
  }

  private readDockerfile(): Dockerfile {
    const path = this.req.dockerfile || "Dockerfile";
    const at = this.context.resolve(posix.join("/", path), true);
    if (!at.stat?.isFile())
      throw invalid(
        `Cannot locate specified Dockerfile: ${path}; put it in the build context or name it with -f`,
      );
    return parseDockerfile(this.context.onHost(at.path, (h) => readFileSync(h, "utf8")));
  }

  /** The stages up to --target, and only those the target needs (as BuildKit; the classic builder builds all before it). */
  private stagesToBuild(file: Dockerfile): Stage[] {
    const target = this.req.target?.toLowerCase();
    if (!target) return file.stages;
    const at = file.stages.findIndex((s) => s.name === target);
    if (at < 0)
      throw invalid(
        `failed to reach build target ${this.req.target} in Dockerfile: the stages are ${file.stages.map((s) => s.name ?? s.index).join(", ")}`,
      );
    return file.stages.slice(0, at + 1);
  }

  private globalArgs(file: Dockerfile): Map<string, string> {
    const vars = new Map<string, string>();
    for (const ins of file.globalArgs) {
      this.announce(ins);
      for (const [k, v] of keyValues("ARG", ins.args, vars, this.escape)) {
        const given = this.buildArgs.get(k);
        if (given !== undefined) this.usedArgs.add(k);
        const value = given ?? v;
        if (value !== undefined) vars.set(k, value);
      }
    }
    return vars;
  }

  private announce(ins: Instruction): void {
    this.step++;
    this.out(`Step ${this.step}/${this.steps} : ${ins.original}\n`);
  }

  private checkAborted(): void {
    if (this.req.signal?.aborted) throw new RuntimeError("INVALID_ARGUMENT", "the build was cancelled");
  }

  private async buildStage(stage: Stage, globals: Map<string, string>): Promise<StageState> {
    this.announce(stage.from);
    const st = await this.fromImage(stage, globals);
    this.out(` ---> ${st.imageId.slice(0, 12)}\n`);
    for (const ins of stage.instructions) {
      this.checkAborted();
      this.announce(ins);
      await this.dispatch(st, ins);
    }
    // The stage's result carries its config: a later stage's FROM or COPY --from reads it.
    if (st.dirty) await this.commitConfig(st);
    return st;
  }

  /** Whether steps are kept in a build cache (with --no-cache too: only the lookups are skipped). */
  private get caching(): boolean {
    return this.engine.cachedStep !== undefined && this.engine.rememberStep !== undefined;
  }

  /** The cache key of the step about to run on `st`; undefined without a cache. */
  private keyOf(st: StageState, step: unknown): string | undefined {
    if (!this.caching) return undefined;
    const { imageId: parent, config, author, dirs } = st;
    return stepKey({ parent, config, author: author ?? "", dirs, step });
  }

  /** Whether the cache held the step of `key`: `st` is then its image, as if the step had run. */
  private async fromCache(st: StageState, key: string | undefined): Promise<boolean> {
    if (key === undefined || this.req.noCache || !this.engine.cachedStep) return false;
    const name = this.tempName();
    const hit = await this.engine.cachedStep(key, name);
    if (!hit) {
      this.temps.pop();
      return false;
    }
    st.image = name;
    st.imageId = hit.id;
    st.dirty = false;
    st.dirs = [];
    this.out(` ---> Using cache\n ---> ${hit.id.slice(0, 12)}\n`);
    return true;
  }

  /** Commits the config changed since the last step (ENV, LABEL, ...), or takes it from the cache. */
  private async commitConfig(st: StageState): Promise<void> {
    const key = this.keyOf(st, { config: true });
    if (await this.fromCache(st, key)) return;
    await this.commitStep(st, await this.stepContainer(st, ["true"], "0"), key);
  }

  private async fromImage(stage: Stage, globals: Map<string, string>): Promise<StageState> {
    for (const f of Object.keys(stage.from.flags))
      if (f !== "platform")
        throw invalid(`Dockerfile line ${stage.from.line}: FROM --${f}: FROM takes only --platform`);
    const ref = substitute(stage.image, globals, this.escape);
    if (ref === "") throw invalid(`Dockerfile line ${stage.from.line}: FROM names no image`);
    const state = ({ name, id, config }: Pick<ImageInfo, "name" | "id" | "config">): StageState => ({
      image: name,
      imageId: id,
      config: {
        ...config,
        env: [...config.env],
        labels: { ...config.labels },
        exposedPorts: [...config.exposedPorts],
      },
      shell: DEFAULT_SHELL,
      args: new Map(),
      dirs: [],
      dirty: false,
      cmdSet: false,
    });
    const earlier = this.stageImages.get(ref.toLowerCase());
    if (earlier) return state(this.engine.image(earlier));
    if (ref === "scratch") {
      const name = this.tempName();
      const dir = mkdtempSync(join(tmpdir(), "weft-build-scratch-"));
      try {
        const tar = join(dir, "empty.tar");
        // One entry, the root: the store takes no empty archive.
        writeFileSync(tar, Buffer.concat([dirEntry("."), END_OF_ARCHIVE]));
        const { id } = await this.engine.importImage(tar, name);
        return state({ name, id, config: SCRATCH_CONFIG });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    let image: ImageInfo;
    try {
      image = this.engine.image(ref);
    } catch (err) {
      if ((err as { code?: unknown }).code !== "IMAGE_NOT_FOUND") throw err;
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `Dockerfile line ${stage.from.line}: FROM ${ref}: no such image here, and weft does not pull from registries; load it first (docker save ${ref} elsewhere, then docker load -i FILE.tar or weft image import FILE.tar)`,
      );
    }
    return state(image);
  }

  /** The variables a word may use: the stage's ARGs, then its ENV (which wins, as in Docker). */
  private vars(st: StageState): Map<string, string> {
    const vars = new Map<string, string>();
    for (const [k, v] of st.args) if (v !== undefined) vars.set(k, v);
    for (const e of st.config.env) {
      const eq = e.indexOf("=");
      if (eq > 0) vars.set(e.slice(0, eq), e.slice(eq + 1));
    }
    return vars;
  }

  private words(st: StageState, ins: Instruction): string[] {
    return splitWords(ins.args, this.vars(st), this.escape);
  }

  private async dispatch(st: StageState, ins: Instruction): Promise<void> {
    const at = `Dockerfile line ${ins.line}: ${ins.keyword}`;
    const takes = FLAGS[ins.keyword] ?? [];
    for (const f of Object.keys(ins.flags))
      if (!takes.includes(f))
        throw invalid(
          `${at} --${f}: ${takes.length > 0 ? `weft's builder takes ${takes.map((k) => `--${k}`).join(", ")} here` : "weft's builder takes no flags here"}${BUILDKIT_FLAGS.includes(f) ? ` (--${f} needs BuildKit)` : ""}`,
        );
    switch (ins.keyword) {
      case "RUN":
        return this.runStep(st, ins);
      case "COPY":
      case "ADD":
        return this.copyStep(st, ins);
      case "ENV":
        for (const [k, v] of keyValues("ENV", ins.args, this.vars(st), this.escape)) {
          st.config.env = st.config.env.filter((e) => !e.startsWith(`${k}=`));
          st.config.env.push(`${k}=${v ?? ""}`);
        }
        break;
      case "ARG":
        for (const [k, v] of keyValues("ARG", ins.args, this.vars(st), this.escape)) {
          const given = this.buildArgs.get(k);
          if (given !== undefined) this.usedArgs.add(k);
          st.args.set(k, given ?? v ?? this.globals.get(k));
        }
        return; // not in the image: no commit needed
      case "LABEL":
        for (const [k, v] of keyValues("LABEL", ins.args, this.vars(st), this.escape))
          st.config.labels[k] = v ?? "";
        break;
      case "MAINTAINER":
        st.author = ins.args;
        break;
      case "CMD":
        st.config.cmd = ins.json ?? [...st.shell, ins.args];
        st.cmdSet = true;
        break;
      case "ENTRYPOINT":
        st.config.entrypoint = ins.json ?? [...st.shell, ins.args];
        if (!st.cmdSet) st.config.cmd = [];
        break;
      case "SHELL":
        if (!ins.json || ins.json.length === 0)
          throw invalid(`${at} takes the JSON form, such as SHELL ["/bin/bash", "-c"]`);
        st.shell = ins.json;
        return;
      case "WORKDIR": {
        const [dir] = this.words(st, ins);
        const path = posix.resolve(st.config.workdir || "/", dir ?? "");
        st.config.workdir = path;
        st.dirs.push(path);
        break;
      }
      case "USER": {
        const [user] = this.words(st, ins);
        st.config.user = user ?? "";
        break;
      }
      case "EXPOSE":
        for (const p of this.words(st, ins)) {
          const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
          const first = Number(m?.[1]);
          const last = m?.[2] === undefined ? first : Number(m[2]);
          if (!m || first < 1 || last > 65535 || last < first)
            throw invalid(`${at}: "${p}" is not a port such as 8080, 53/udp or 8000-8010`);
          // A range is each of its ports, as Docker records it.
          for (let n = first; n <= last; n++) {
            const port = `${n}/${(m[3] ?? "tcp").toLowerCase()}`;
            if (!st.config.exposedPorts.includes(port)) st.config.exposedPorts.push(port);
          }
        }
        break;
      case "VOLUME":
        // Docker makes an anonymous volume at each start; weft makes none from images.
        this.out(
          ` ---> VOLUME ${ins.json?.join(" ") ?? ins.args} is not kept: weft makes no volumes from images; mount one with -v NAME:PATH\n`,
        );
        return;
      case "STOPSIGNAL": {
        const [signal] = this.words(st, ins);
        st.config.stopSignal = withLine(ins.line, () => parseSignal(signal, "STOPSIGNAL"));
        break;
      }
      case "HEALTHCHECK":
        st.config.healthcheck = healthcheckOf(ins, at);
        break;
      case "ONBUILD":
        throw invalid(
          `${at} is not supported by weft's builder; put the instructions in the Dockerfile that uses the image`,
        );
      default:
        throw invalid(`${at} is not supported by weft's builder`);
    }
    st.dirty = true;
  }

  /** A container of the image so far, not started, with the WORKDIRs made since the last commit. */
  private async stepContainer(
    st: StageState,
    cmd: string[],
    user: string,
    env: string[] = [],
  ): Promise<string> {
    const id = await this.container({
      image: st.image,
      cmd,
      env: [...st.config.env, ...env],
      user,
      workdir: st.config.workdir || "/",
    });
    for (const dir of st.dirs) await this.makeDir(id, dir);
    st.dirs = [];
    return id;
  }

  /** A build container (no sidecar, labelled weft.build=ID), not started; removed at the end if not before. */
  private async container(o: {
    image: string;
    cmd: string[];
    env: string[];
    user: string;
    workdir?: string;
  }) {
    const c = await this.engine.create(
      validateRunSpec({ ...o, entrypoint: [], labels: { "weft.build": this.id }, sidecar: false }),
    );
    this.containers.add(c.id);
    return c.id;
  }

  private async makeDir(container: string, dir: string, owner?: { uid: number; gid: number }): Promise<void> {
    if (dir === "/") return;
    try {
      this.engine.statPath(container, dir);
      return; // there already: its owner and mode stay
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const entry = dirEntry(dir.replace(/^\/+/, ""));
    await this.engine.extract(
      container,
      "/",
      (async function* () {
        yield Buffer.concat([entry, END_OF_ARCHIVE]);
      })(),
      { owner },
    );
  }

  private async runStep(st: StageState, ins: Instruction): Promise<void> {
    const cmd = ins.json ?? [...st.shell, ins.args];
    // ARGs reach the command as variables but stay out of the image.
    const argEnv = [...st.args]
      .filter(([k, v]) => v !== undefined && !st.config.env.some((e) => e.startsWith(`${k}=`)))
      .map(([k, v]) => `${k}=${v}`);
    const proxies = PREDEFINED_ARGS.filter((a) => this.buildArgs.has(a)).map(
      (a) => `${a}=${this.buildArgs.get(a)}`,
    );
    for (const a of PREDEFINED_ARGS) if (this.buildArgs.has(a)) this.usedArgs.add(a);
    const user = st.config.user || "0";
    const env = [...proxies, ...argEnv];
    const key = this.keyOf(st, { run: cmd, user, env });
    if (await this.fromCache(st, key)) return;
    const id = await this.stepContainer(st, cmd, user, env);
    this.out(` ---> Running in ${id.slice(0, 12)}\n`);
    const attached = this.engine.attach(id, this.req.signal);
    // A cancel may come while start() is under way, before the app runs: killed then, and again after.
    const signal = this.req.signal;
    const kill = () => void this.engine.kill(id, "SIGKILL").catch(() => {});
    signal?.addEventListener("abort", kill);
    let exitCode: number;
    try {
      await this.engine.start(id);
      if (signal?.aborted) kill();
      for await (const entry of attached.output) this.out(entry.data.toString("utf8"));
      ({ exitCode } = await this.engine.wait(id));
    } finally {
      signal?.removeEventListener("abort", kill);
    }
    this.checkAborted();
    if (exitCode !== 0)
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `The command '${cmd.join(" ")}' returned a non-zero code: ${exitCode}`,
      );
    await this.commitStep(st, id, key);
  }

  /** Commits the step's container as the image so far (and, with a key, keeps it in the cache). */
  private async commitStep(st: StageState, container: string, key?: string): Promise<void> {
    const name = this.tempName();
    const image = await this.engine.commit(container, name, {
      config: st.config,
      pause: false,
      author: st.author,
      comment: `weft build step ${this.step}`,
    });
    if (key !== undefined) await this.engine.rememberStep?.(key, image.id);
    this.out(`Removing intermediate container ${container.slice(0, 12)}\n`);
    await this.dropContainer(container);
    st.image = name;
    st.imageId = image.id;
    st.dirty = false;
    this.out(` ---> ${image.id.slice(0, 12)}\n`);
  }

  private async copyStep(st: StageState, ins: Instruction): Promise<void> {
    const at = `Dockerfile line ${ins.line}: ${ins.keyword}`;
    const words = ins.json ?? this.words(st, ins);
    if (words.length < 2) throw invalid(`${at} needs a source and a destination`);
    const sources = words.slice(0, -1);
    const destWord = words[words.length - 1] as string;
    const dest = posix.resolve(st.config.workdir || "/", destWord);
    const intoDir = destWord.endsWith("/") || sources.length > 1;
    // Names are looked up in the image so far (the layer holding its /etc/passwd).
    const owner = ins.flags.chown
      ? resolveUser(
          substitute(ins.flags.chown, this.vars(st), this.escape),
          this.engine.image(st.image).rootfs,
        )
      : undefined;
    for (const src of sources)
      if (ins.keyword === "ADD" && /^[a-z][a-z0-9+.-]*:\/\//i.test(src))
        throw invalid(
          `${at} ${src}: weft builds offline and does not download; put the file in the build context and COPY it`,
        );
    const fromImage = ins.flags.from === undefined ? undefined : this.copySource(ins.flags.from, at);
    const contextPaths = fromImage ? [] : sources.flatMap((src) => this.contextMatches(src, at));
    if ((fromImage ? sources.length : contextPaths.length) > 1 && !destWord.endsWith("/"))
      throw invalid(
        `${at}: with more than one source file, the destination must be a directory and end with a /`,
      );
    // The key holds what is copied: the files' contents (from the context), or the image's id.
    let key: string | undefined;
    if (this.caching) {
      const hash = createHash("sha256");
      for (const path of contextPaths) {
        hash.update(`${path}\0`);
        await hashTar(hash, packPath(this.context, path).tar);
      }
      const what = fromImage ? { image: fromImage.id, sources } : { sources: hash.digest("hex") };
      key = this.keyOf(st, { [ins.keyword]: what, dest, intoDir, owner: owner ?? null });
    }
    if (await this.fromCache(st, key)) return;
    const id = await this.stepContainer(st, ["true"], "0");
    let from: string | undefined;
    if (fromImage) from = await this.container({ image: fromImage.name, cmd: ["true"], env: [], user: "0" });
    const matched: Array<{ stat: PathStat; tar: () => AsyncGenerator<Buffer>; contextPath?: string }> = [];
    if (from) {
      const container = from;
      for (const src of sources) {
        const path = posix.resolve("/", src);
        let stat: PathStat;
        try {
          stat = this.engine.statPath(container, path);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          throw invalid(`${at} --from=${ins.flags.from}: ${path} is not in that image`);
        }
        matched.push({ stat, tar: () => this.engine.archive(container, path).tar });
      }
    }
    for (const path of contextPaths) {
      const stat = packPath(this.context, path).stat;
      matched.push({ stat, tar: () => packPath(this.context, path).tar, contextPath: path });
    }
    const copyOwner = owner ? { owner } : {};
    for (const m of matched) {
      const isDir = isDirMode(m.stat.mode);
      const archive =
        ins.keyword === "ADD" &&
        m.contextPath !== undefined &&
        this.context.resolve(m.contextPath, false).stat?.isFile()
          ? this.contextArchive(m.contextPath)
          : undefined;
      if (archive) {
        await this.makeDir(id, dest, owner);
        try {
          await this.engine.extract(id, dest, archive.tar, owner ? { owner } : { copyUidGid: true });
        } finally {
          archive.close();
        }
        continue;
      }
      if (isDir) {
        await this.makeDir(id, dest, owner);
        // The folder's contents, not the folder ("." is the top entry of the context's root).
        const top = m.stat.name === "/" ? "." : m.stat.name;
        await this.engine.extract(id, dest, m.tar(), { ...copyOwner, rename: { from: top, to: "." } });
      } else if (intoDir || this.isDir(id, dest)) {
        await this.makeDir(id, dest, owner);
        await this.engine.extract(id, dest, m.tar(), copyOwner);
      } else {
        const parent = posix.dirname(dest);
        await this.makeDir(id, parent, owner);
        await this.engine.extract(id, parent, m.tar(), {
          ...copyOwner,
          rename: { from: m.stat.name, to: posix.basename(dest) },
        });
      }
    }
    if (from) await this.dropContainer(from);
    await this.commitStep(st, id, key);
  }

  /**
   * ADD's local archive (a tar, or a .tar.gz / .tgz), read through a descriptor opened inside the
   * context (never through a symlink, which could lead to a host file); undefined for any other file.
   */
  private contextArchive(path: string): { tar: Readable; close: () => void } | undefined {
    const fd = this.context.onHost(path, (h) => openSync(h, constants.O_RDONLY | constants.O_NOFOLLOW));
    const head = Buffer.alloc(262);
    const got = readSync(fd, head, 0, head.length, 0);
    const gz = got >= 2 && head[0] === 0x1f && head[1] === 0x8b && /\.(tar\.gz|tgz)$/i.test(path);
    const plain = got >= 262 && head.subarray(257, 262).toString("latin1") === "ustar";
    if (!gz && !plain) {
      closeSync(fd);
      return undefined;
    }
    const source = createReadStream("", { fd, start: 0 });
    const tar = gz ? source.pipe(createGunzip()) : source;
    return {
      tar,
      close: () => {
        tar.destroy();
        source.destroy();
      },
    };
  }

  private isDir(container: string, path: string): boolean {
    try {
      return isDirMode(this.engine.statPath(container, path).mode);
    } catch {
      return false;
    }
  }

  /** The image COPY --from copies out of: an earlier stage's, or any image's. */
  private copySource(ref: string, at: string): ImageInfo {
    try {
      return this.engine.image(this.stageImages.get(ref.toLowerCase()) ?? ref);
    } catch (err) {
      if ((err as { code?: unknown }).code !== "IMAGE_NOT_FOUND") throw err;
      throw invalid(
        `${at} --from=${ref}: no stage of that name before this one, and no image of that name here`,
      );
    }
  }

  /** The context's paths a COPY source names: itself, or what a * ? [ pattern in its last part matches. */
  private contextMatches(src: string, at: string): string[] {
    const path = posix.resolve("/", src);
    const base = posix.basename(path);
    if (!/[*?[]/.test(base)) {
      if (!this.context.resolve(path, false).stat)
        throw invalid(
          `${at} failed: file not found in build context or excluded by .dockerignore: stat ${src}: file does not exist`,
        );
      return [path];
    }
    const dir = posix.dirname(path);
    const host = this.context.resolve(dir, true);
    const names = host.stat?.isDirectory() ? this.context.onHost(host.path, (h) => readdirSync(h)) : [];
    const re = globRegExp(base);
    const found = names
      .filter((n) => re.test(n))
      .sort()
      .map((n) => posix.join(dir, n));
    if (found.length === 0)
      throw invalid(
        `${at} failed: no source files were specified (nothing in the build context matches ${src})`,
      );
    return found;
  }

  /** The last stage's image under `tag`: its last step's, or one committed now for a config alone. */
  private async finish(st: StageState, tag: string): Promise<ImageInfo> {
    const labels = this.req.labels ?? {};
    if (Object.keys(labels).length > 0) {
      Object.assign(st.config.labels, labels);
      st.dirty = true;
    }
    if (st.dirty) await this.commitConfig(st);
    // A stage that changed nothing is its base image under another name, as with Docker.
    return this.engine.tagImage(st.image, tag);
  }

  private tempName(): string {
    const name = `weft-build-${this.id}-${this.temps.length + 1}`;
    this.temps.push(name);
    return name;
  }

  private async dropContainer(id: string): Promise<void> {
    await this.engine.remove(id, true);
    this.containers.delete(id);
  }

  private async cleanUp(): Promise<void> {
    for (const id of this.containers) await this.engine.remove(id, true).catch(() => {});
    for (const name of this.temps.reverse()) await this.engine.removeImage(name).catch(() => {});
  }
}

/** HEALTHCHECK [--interval=D --timeout=D --start-period=D --retries=N] CMD ... | NONE, as Docker stores it. */
function healthcheckOf(ins: Instruction, at: string): ImageHealthcheck {
  if (/^NONE$/i.test(ins.args)) return { test: ["NONE"] };
  const command = ins.args.replace(/^CMD\s+/i, "");
  const h: ImageHealthcheck = { test: ins.json ? ["CMD", ...ins.json] : ["CMD-SHELL", command] };
  const ns = (flag: string): number | undefined => {
    const text = ins.flags[flag];
    if (text === undefined) return undefined;
    const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
    const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 6e10, h: 3.6e12 };
    let total = 0;
    let end = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      total += Number(m[1]) * (unit[m[2] as string] as number);
      end = re.lastIndex;
    }
    if (text === "" || end !== text.length)
      throw invalid(`${at} --${flag}: "${text}" is not a duration such as 30s, 1m30s or 500ms`);
    return Math.round(total);
  };
  const interval = ns("interval");
  const timeout = ns("timeout");
  const startPeriod = ns("start-period");
  if (interval !== undefined) h.intervalNs = interval;
  if (timeout !== undefined) h.timeoutNs = timeout;
  if (startPeriod !== undefined) h.startPeriodNs = startPeriod;
  const retries = ins.flags.retries;
  if (retries !== undefined) {
    if (!/^\d+$/.test(retries)) throw invalid(`${at} --retries: "${retries}" is not a whole number`);
    h.retries = Number(retries);
  }
  return h;
}

/** An error of a word-level check, with the Dockerfile line in front. */
function withLine<T>(line: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RuntimeError) throw invalid(`Dockerfile line ${line}: ${err.message}`);
    throw err;
  }
}

/** A tar header of a directory owned by root, mode 755 (an extract's owner option may change it). */
function dirEntry(name: string): Buffer {
  return entryHeader({
    name,
    type: "dir",
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: Math.floor(Date.now() / 1000),
    linkname: "",
    devmajor: 0,
    devminor: 0,
  });
}

/** A path the engine did not find (its archive errors are 404s with INVALID_ARGUMENT codes). */
function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; status?: unknown };
  return e.status === 404 || (typeof e.code === "string" && e.code.endsWith("NOT_FOUND"));
}
