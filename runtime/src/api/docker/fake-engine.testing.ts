// Test helper (not part of the public surface): an in-memory DockerEngine that behaves like the
// contract says (create/start/stop/wait/logs/exec/attach/events), so the Docker API and the docker
// CLI can be tested without runc. Apps are scripted: `cmd` ["echo", ...] prints and exits,
// ["cat"] echoes stdin, anything else runs until stopped.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { containerChanges } from "../../copy/changes";
import { ContainerFs } from "../../copy/container-fs";
import { type ExtractOptions, extractInto } from "../../copy/extract";
import { packPath, packRoot, statPath } from "../../copy/pack";
import type { ImageInfo } from "../../engine/parts";
import type { ContainerState, EngineEvent, LogEntry, LogQuery, RunSpec } from "../../engine/types";
import { RuntimeError } from "../../errors";
import { DEFAULT_IMAGE_CONFIG, ImageError, normaliseName } from "../../image/index";
import type { DockerEngine, ExecOptions, ExecProcess, WaitCondition } from "./engine";
import { Feed } from "./feed.testing";

interface FakeContainer {
  state: ContainerState;
  log: LogEntry[];
  output: Feed<LogEntry>;
  stdin?: PassThrough;
  exits: Array<(r: { exitCode: number; oomKilled: boolean }) => void>;
  removed: Array<() => void>;
}

export class FakeDockerEngine implements DockerEngine {
  readonly attachStdin = true;
  readonly containers = new Map<string, FakeContainer>();
  readonly imageList: ImageInfo[] = [];
  readonly eventLog: EngineEvent[] = [];
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  /** The last spec create() was given, for assertions on the body mapping. */
  lastSpec?: RunSpec;

  addImage(name: string, id = randomBytes(32).toString("hex")): ImageInfo {
    const image: ImageInfo = {
      name,
      id,
      rootfs: "/nonexistent",
      layers: [],
      diffIds: [`sha256:${id}`],
      created: "2026-01-02T03:04:05Z",
      sizeBytes: 4_200_000,
      config: DEFAULT_IMAGE_CONFIG,
    };
    this.imageList.push(image);
    return image;
  }

  private emit(action: string, s: ContainerState, extra: Record<string, string> = {}): void {
    const now = Date.now();
    const e: EngineEvent = {
      type: "container",
      action,
      id: s.id,
      attributes: { name: s.name, image: s.image, ...extra },
      time: new Date(now).toISOString(),
      timeNano: now * 1e6,
    };
    this.eventLog.push(e);
    for (const l of this.listeners) l(e);
  }

  private find(ref: string): FakeContainer {
    for (const c of this.containers.values()) {
      if (c.state.name === ref || c.state.id === ref || (ref.length >= 3 && c.state.id.startsWith(ref)))
        return c;
    }
    throw new RuntimeError("CONTAINER_NOT_FOUND", `no such container "${ref}"; list them with 'weft ps -a'`);
  }

  async create(spec: RunSpec): Promise<ContainerState> {
    this.lastSpec = spec;
    // As the image store looks names up: "busybox" is "busybox:latest".
    const want = normaliseName(spec.image);
    const image = this.imageList.find((i) => i.name === want);
    if (!image) throw new ImageError("IMAGE_NOT_FOUND", `image "${spec.image}" not found`);
    const name = spec.name ?? `fake_${randomBytes(3).toString("hex")}`;
    if ([...this.containers.values()].some((c) => c.state.name === name)) {
      throw new RuntimeError("NAME_IN_USE", `container name "${name}" is already in use`);
    }
    const id = randomBytes(32).toString("hex");
    const state: ContainerState = {
      id,
      name,
      image: spec.image,
      imageId: image.id,
      created: new Date().toISOString(),
      status: "created",
      address: "10.250.0.2",
      gateway: "10.250.0.1",
      netns: `weft-${id.slice(0, 12)}`,
      hostVeth: "wtfake0",
      cmd: spec.cmd ?? ["sh"],
      env: spec.env,
      service: spec.service,
      ports: spec.ports,
      labels: spec.labels,
      sidecar: spec.sidecar,
      networks: spec.networks,
      uid: 0,
      gid: 0,
      cgroupPath: "/fake",
      tty: spec.tty,
      interactive: spec.interactive,
      stdinOnce: spec.stdinOnce,
      publish: spec.publish,
      stopTimeoutS: spec.stopTimeoutS,
      stopSignal: spec.stopSignal,
      restartPolicy: spec.restart,
      autoRemove: spec.autoRemove,
    };
    // The app's stdin buffers what an attached client sends before start, as a pipe would.
    const stdin = spec.interactive ? new PassThrough() : undefined;
    this.containers.set(id, { state, log: [], output: new Feed(), stdin, exits: [], removed: [] });
    this.emit("create", state);
    return state;
  }

  private write(c: FakeContainer, stream: "stdout" | "stderr", text: string): void {
    const e: LogEntry = { stream, time: new Date().toISOString(), data: Buffer.from(text) };
    c.log.push(e);
    c.output.push(e);
  }

  private exit(c: FakeContainer, exitCode: number): void {
    if (c.state.status !== "running") return;
    c.state.status = "exited";
    c.state.exitCode = exitCode;
    c.state.finishedAt = new Date().toISOString();
    c.output.close();
    c.output = new Feed();
    this.emit("die", c.state, { exitCode: String(exitCode) });
    for (const w of c.exits.splice(0)) w({ exitCode, oomKilled: false });
    if (c.state.autoRemove) setImmediate(() => this.remove(c.state.id, true).catch(() => undefined));
  }

  async start(ref: string): Promise<ContainerState> {
    const c = this.find(ref);
    if (c.state.status === "running") return c.state;
    c.state.status = "running";
    c.state.startedAt = new Date().toISOString();
    c.state.pid = 4242;
    this.emit("start", c.state);
    const [cmd, ...args] = c.state.cmd;
    if (cmd === "echo") {
      setImmediate(() => {
        this.write(c, "stdout", `${args.join(" ")}\n`);
        this.write(c, "stderr", "to stderr\n");
        this.exit(c, 0);
      });
    } else if (cmd === "cat" && c.stdin) {
      c.stdin.on("data", (b: Buffer) => this.write(c, "stdout", b.toString()));
      c.stdin.on("end", () => this.exit(c, 0));
    } else if (cmd === "fail") {
      setImmediate(() => this.exit(c, Number(args[0] ?? 1)));
    }
    return c.state;
  }

  async stop(ref: string): Promise<ContainerState> {
    const c = this.find(ref);
    this.exit(c, 143);
    this.emit("stop", c.state);
    return c.state;
  }

  async kill(ref: string, signal = "SIGKILL"): Promise<void> {
    const c = this.find(ref);
    if (c.state.status !== "running")
      throw new RuntimeError("CONTAINER_NOT_RUNNING", `container "${c.state.name}" is not running`);
    this.emit("kill", c.state, { signal });
    this.exit(c, 137);
  }

  async pause(ref: string): Promise<ContainerState> {
    const c = this.find(ref);
    c.state.paused = true;
    this.emit("pause", c.state);
    return c.state;
  }

  async update(ref: string, u: { memoryBytes?: number; cpus?: number; pids?: number; cpuShares?: number }) {
    const c = this.find(ref);
    Object.assign(c.state, Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined)));
    return c.state;
  }

  async rename(ref: string, name: string): Promise<ContainerState> {
    const c = this.find(ref);
    if ([...this.containers.values()].some((o) => o !== c && o.state.name === name))
      throw new RuntimeError("NAME_IN_USE", `container name "${name}" is already in use`);
    c.state.name = name;
    this.emit("rename", c.state);
    return c.state;
  }

  async unpause(ref: string): Promise<ContainerState> {
    const c = this.find(ref);
    c.state.paused = undefined;
    this.emit("unpause", c.state);
    return c.state;
  }

  async restart(ref: string): Promise<ContainerState> {
    await this.stop(ref);
    return this.start(ref);
  }

  wait(ref: string, condition: WaitCondition = "not-running") {
    const c = this.find(ref);
    if (condition === "removed")
      return new Promise<{ exitCode: number; oomKilled: boolean }>((r) =>
        c.removed.push(() => r({ exitCode: c.state.exitCode ?? 0, oomKilled: false })),
      );
    if (condition === "not-running" && c.state.status !== "running" && c.state.status !== "created") {
      return Promise.resolve({ exitCode: c.state.exitCode ?? 0, oomKilled: false });
    }
    return new Promise<{ exitCode: number; oomKilled: boolean }>((r) => c.exits.push(r));
  }

  async remove(ref: string, force: boolean): Promise<void> {
    const c = this.find(ref);
    if (c.state.status === "running" && !force)
      throw new RuntimeError("CONTAINER_RUNNING", `container "${c.state.name}" is running`);
    this.exit(c, 137);
    this.containers.delete(c.state.id);
    this.emit("destroy", c.state);
    for (const r of c.removed.splice(0)) r();
  }

  async list(all: boolean): Promise<ContainerState[]> {
    return [...this.containers.values()].map((c) => c.state).filter((s) => all || s.status === "running");
  }

  async inspect(ref: string): Promise<ContainerState> {
    return this.find(ref).state;
  }

  logStream(ref: string, q: LogQuery): AsyncIterable<LogEntry> {
    const c = this.find(ref);
    const keep = (e: LogEntry) =>
      ((e.stream === "stdout" && q.stdout) || (e.stream === "stderr" && q.stderr)) &&
      (!q.since || Date.parse(e.time) >= q.since.getTime()) &&
      (!q.until || Date.parse(e.time) <= q.until.getTime());
    let past = c.log.filter(keep);
    if (q.tail !== undefined) past = past.slice(Math.max(0, past.length - q.tail));
    const live = q.follow && c.state.status === "running" ? c.output.subscribe() : undefined;
    return {
      async *[Symbol.asyncIterator]() {
        yield* past;
        if (live) for await (const e of live) if (keep(e)) yield e;
      },
    };
  }

  subscribe(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  events(since?: Date, until?: Date): EngineEvent[] {
    return this.eventLog.filter(
      (e) =>
        (!since || e.timeNano / 1e6 >= since.getTime()) && (!until || e.timeNano / 1e6 <= until.getTime()),
    );
  }

  /** `sh -c "exit N"` exits N; anything else prints its args (and echoes stdin until EOF). */
  execStream(ref: string, o: ExecOptions): ExecProcess {
    const c = this.find(ref);
    if (c.state.status !== "running") throw new RuntimeError("CONTAINER_NOT_RUNNING", "not running");
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const exited = new Promise<number>((resolve) => {
      const code =
        o.cmd[0] === "sh" && o.cmd[1] === "-c" ? Number(/exit (\d+)/.exec(o.cmd[2] ?? "")?.[1] ?? 0) : 0;
      stdout.write(`exec:${o.cmd.join(" ")}${o.tty ? " (tty)" : ""}\n`);
      stdin.on("data", (b: Buffer) => stdout.write(b));
      stdin.on("end", () => {
        stdout.end();
        stderr.end();
        resolve(code);
      });
    });
    return { stdin, stdout, stderr, exited };
  }

  attach(ref: string) {
    const c = this.find(ref);
    if (c.state.status !== "running" && c.state.status !== "created") {
      throw new RuntimeError("CONTAINER_NOT_RUNNING", "not running");
    }
    return { stdin: c.stdin, output: c.output.subscribe() };
  }

  /** The last size each container's terminal was given. */
  readonly sizes = new Map<string, { rows: number; cols: number }>();

  resize(ref: string, rows: number, cols: number): void {
    const c = this.find(ref);
    if (c.state.status !== "running") throw new RuntimeError("CONTAINER_NOT_RUNNING", "not running");
    this.sizes.set(c.state.id, { rows, cols });
  }

  async stats(ref: string) {
    const c = this.find(ref);
    if (c.state.status !== "running") throw new RuntimeError("CONTAINER_NOT_RUNNING", "not running");
    return {
      id: c.state.id,
      name: c.state.name,
      cpuPercent: 12.5,
      cpuUsageNs: 5_000_000_000,
      memoryBytes: 10 * 1024 * 1024,
      memoryLimitBytes: 100 * 1024 * 1024,
      memoryPercent: 10,
      netRxBytes: 1000,
      netTxBytes: 2000,
      pids: 3,
      read: new Date().toISOString(),
    };
  }

  /** One made-up ps row per running container: its command, as pid 4242. */
  async top(ref: string, _psArgs: string[]) {
    const c = this.find(ref);
    if (c.state.status !== "running") throw new RuntimeError("CONTAINER_NOT_RUNNING", "not running");
    return {
      titles: ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
      processes: [["1000", "4242", "4200", "0", "12:00", "?", "00:00:00", c.state.cmd.join(" ")]],
    };
  }

  images(): ImageInfo[] {
    return [...this.imageList];
  }

  async tagImage(source: string, target: string): Promise<ImageInfo> {
    const image = this.imageList.find((i) => i.name === normaliseName(source));
    if (!image) throw new ImageError("IMAGE_NOT_FOUND", `image "${source}" not found`);
    return this.addImage(normaliseName(target), image.id);
  }

  async importImage(_tarPath: string, name: string): Promise<ImageInfo> {
    return this.addImage(name || "loaded:latest");
  }

  /** Where each container's files are (a directory per container, made on first use; see closeFiles). */
  private filesDir?: string;

  /** A container's files: a plain directory, written by the tests through rootfsOf(). */
  files(ref: string): ContainerFs {
    const { state } = this.find(ref);
    this.filesDir ??= mkdtempSync(join(tmpdir(), "weft-fake-files-"));
    const rootfs = join(this.filesDir, state.id);
    mkdirSync(rootfs, { recursive: true });
    return new ContainerFs({ name: state.name, rootfs, mounts: [], readOnlyRoot: state.readOnly === true });
  }

  statPath(ref: string, path: string) {
    return statPath(this.files(ref), path);
  }

  archive(ref: string, path: string) {
    return packPath(this.files(ref), path);
  }

  extract(ref: string, dir: string, tar: AsyncIterable<Buffer>, o: ExtractOptions) {
    return extractInto(this.files(ref), dir, tar, o);
  }

  /** The fake has no image layers: everything in a container's files is added. */
  changes(ref: string) {
    const files = this.files(ref);
    return containerChanges(files.o.rootfs, [], []);
  }

  exportFs(ref: string) {
    return packRoot(this.files(ref));
  }

  /** Removes every container's files. */
  closeFiles(): void {
    if (this.filesDir) rmSync(this.filesDir, { recursive: true, force: true });
  }

  async removeImage(name: string): Promise<void> {
    const i = this.imageList.findIndex((x) => x.name === name);
    if (i < 0) throw new ImageError("IMAGE_NOT_FOUND", `image "${name}" not found`);
    this.imageList.splice(i, 1);
  }
}

/** The fake behind the daemon's real socket server (server.ts), so dispatch and hijacking are real too. */
export async function startFakeDockerDaemon(): Promise<{
  socket: string;
  engine: FakeDockerEngine;
  close(): Promise<void>;
}> {
  const { startApiServer } = await import("../server");
  const unsupported = () => {
    throw new RuntimeError("INTERNAL", "not part of the fake");
  };
  const engine = new FakeDockerEngine();
  const full = Object.assign(engine, {
    run: unsupported,
    logs: unsupported,
    exec: unsupported,
    // No volumes: `docker inspect NAME` looks among them too, and must find nothing there.
    listVolumes: () => [],
    createVolume: unsupported,
    removeVolume: unsupported,
    // No named networks: the default one is all `docker network ls` shows.
    listNetworks: () => [],
    inspectNetwork: unsupported,
    createNetwork: unsupported,
    removeNetwork: unsupported,
    connect: unsupported,
    disconnect: unsupported,
    image: unsupported,
    commit: unsupported,
    saveImages: unsupported,
    diskUsage: unsupported,
  });
  const dir = mkdtempSync(join(tmpdir(), "weft-docker-"));
  const socket = join(dir, "weft.sock");
  const quiet = { info: () => {}, warn: () => {}, error: () => {} };
  const server = await startApiServer(full, socket, quiet);
  return {
    socket,
    engine,
    close: async () => {
      await server.close();
      engine.closeFiles();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
