// The engine's read-side and resource verbs (list, inspect, logs, attach, exec, stats, update, volumes,
// images): what does not change a container's lifecycle. A container's files are in files.ts.
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Readable, Writable } from "node:stream";
import { checkLimits } from "../cgroups/index";
import { RuntimeError } from "../errors";
import { ImageError } from "../image/index";
import type { BuildCacheUsage } from "../image/store";
import type { BridgeInfo } from "../network/bridge";
import { resizeScriptTerminal } from "../oci/exec-tty";
import { execStartExitCode } from "../oci/start-errors";
import type { VolumeInfo } from "../volumes/index";
import { type Attached, attachTo, resizeTerminal } from "./attach";
import { EngineCore } from "./engine-core";
import { readExitCode } from "./exits";
import { resolveUser } from "./image-config";
import { LogReader, streamLog } from "./logs";
import type { ImageInfo } from "./parts";
import { monitorPaths } from "./start-container";
import { sampleStats } from "./stats";
import { containerProcesses, type ProcessTable } from "./top";
import type {
  ContainerState,
  ContainerStats,
  ExecResult,
  LogEntry,
  LogQuery,
  LogsResult,
  RestartPolicy,
} from "./types";

/** What docker update changes; fields left out stay as they are. */
export interface ContainerUpdate {
  memoryBytes?: number;
  cpus?: number;
  pids?: number;
  cpuShares?: number;
  restartPolicy?: RestartPolicy;
}

/** Sets config.json's memory, cpu and pids resources (devices and the rest stay as runc was given them). */
function rewriteResources(configPath: string, resources: object): void {
  const config = JSON.parse(readFileSync(configPath, "utf8")) as {
    linux?: { resources?: Record<string, unknown> };
  };
  config.linux ??= {};
  const rest = { ...(config.linux.resources ?? {}) };
  for (const key of ["memory", "cpu", "pids"]) delete rest[key];
  config.linux.resources = { ...rest, ...resources };
  writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
}

export interface ExecStream {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  exited: Promise<number>;
  /** With a terminal: sets its size (rows, cols), as docker exec's resize; false when it is gone. */
  resize?(rows: number, cols: number): Promise<boolean>;
}

export class EngineResources extends EngineCore {
  /** Running containers, or every container with `all`; exits the watcher has not handled yet are. */
  async list(all = true): Promise<ContainerState[]> {
    const out: ContainerState[] = [];
    for (const state of this.containers.values()) {
      await this.refresh(state);
      if (all || state.status === "running") out.push(state);
    }
    return out.sort((a, b) => b.created.localeCompare(a.created));
  }

  async inspect(ref: string): Promise<ContainerState> {
    const state = this.find(ref);
    await this.refresh(state);
    return state;
  }

  /** The whole log, split by stream (the API's non-streaming logs). */
  logs(ref: string): LogsResult {
    const state = this.find(ref);
    const entries = new LogReader(
      monitorPaths(this.store.containerDir(state.id), state.id).logPath,
    ).readNew();
    const join = (stream: string) =>
      Buffer.concat(entries.filter((e) => e.stream === stream).map((e) => e.data)).toString();
    return { stdout: join("stdout"), stderr: join("stderr") };
  }

  /** The app's output as the monitor logged it; with follow, until the app is done (or removed). */
  logStream(ref: string, q: LogQuery, signal?: AbortSignal): AsyncIterable<LogEntry> {
    const state = this.find(ref);
    const path = monitorPaths(this.store.containerDir(state.id), state.id).logPath;
    return streamLog(path, q, {
      done: () => !this.containers.has(state.id) || state.status === "exited",
      sleep: (ms) => this.clock.sleep(ms),
      signal,
    });
  }

  /** Live output from now on (with `logs`, also what came before), until the app is done; and the
   * app's stdin when it was made with -i. A created container can be attached before it starts. */
  attach(ref: string, signal?: AbortSignal, o: { logs?: boolean } = {}): Attached {
    const state = this.find(ref);
    this.emit("attach", state, {});
    return attachTo(
      {
        parts: this.parts,
        clock: this.clock,
        logger: this.logger,
        containerDir: (id) => this.store.containerDir(id),
        current: (id) => this.containers.get(id),
      },
      state,
      { logs: o.logs, signal },
    );
  }

  /** Resizes a -t container's terminal (rows, cols); CONTAINER_NOT_RUNNING when it does not run. */
  resize(ref: string, rows: number, cols: number): void {
    const state = this.find(ref);
    resizeTerminal(this.parts, this.store.containerDir(state.id), state, rows, cols);
  }

  async exec(ref: string, args: string[]): Promise<ExecResult> {
    const s = this.execStream(ref, { cmd: args, tty: false });
    s.stdin.end();
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    s.stdout.on("data", (b: Buffer) => stdout.push(b));
    s.stderr.on("data", (b: Buffer) => stderr.push(b));
    const exitCode = await s.exited;
    return { exitCode, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
  }

  /** A process in the running container with its stdio as streams (tty: one stream, on stdout). */
  execStream(
    ref: string,
    o: { cmd: string[]; tty: boolean; env?: string[]; user?: string; workdir?: string },
  ): ExecStream {
    const state = this.find(ref);
    if (state.status !== "running") {
      throw new RuntimeError(
        "CONTAINER_NOT_RUNNING",
        `container "${state.name}" is not running; start it with 'weft start ${state.name}'`,
      );
    }
    if (state.paused) {
      throw new RuntimeError(
        "CONTAINER_PAUSED",
        `container "${state.name}" is paused; unpause it with 'weft unpause ${state.name}' first`,
      );
    }
    if (o.cmd.length === 0) throw new RuntimeError("INVALID_ARGUMENT", "cmd must name a command to run");
    if (state.userns === "auto") {
      // runc 1.1 enters the user namespace before the network namespace, which the host owns: EPERM.
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `container "${state.name}" runs with --userns=auto, and runc on this host cannot exec into it; run the command as the container's own command instead`,
      );
    }
    o.env?.forEach((e, i) => {
      if (e.indexOf("=") <= 0)
        throw new RuntimeError("INVALID_ARGUMENT", `env[${i}] must be KEY=VALUE, got "${e}"`);
    });
    if (o.workdir !== undefined && !o.workdir.startsWith("/")) {
      throw new RuntimeError("INVALID_ARGUMENT", `workdir must be an absolute path, got "${o.workdir}"`);
    }
    // A user name is looked up in the container's own /etc/passwd, as `docker exec -u` does.
    const user =
      o.user === undefined
        ? undefined
        : resolveUser(o.user, join(this.store.containerDir(state.id), "rootfs"));
    // runc's own failure (the command not found, say) goes to this file, so that it can be told from
    // the command's exit code 255 and answered with docker exec's 127 or 126.
    const log = join(this.store.containerDir(state.id), `exec-${randomBytes(6).toString("hex")}.log`);
    const child = this.parts.runc.exec(state.id, o.cmd, {
      tty: o.tty,
      // A terminal's type, as docker exec -t gives one unless -e names it.
      env: o.tty && !o.env?.some((e) => e.startsWith("TERM=")) ? ["TERM=xterm", ...(o.env ?? [])] : o.env,
      user,
      cwd: o.workdir,
      log,
    });
    const exited = new Promise<number>((resolve, reject) => {
      child.once("error", (err) => {
        rmSync(log, { force: true });
        reject(err);
      });
      child.once("close", (code, signal) => {
        let runcLog = "";
        if (code === 255) runcLog = readFileIfAny(log);
        rmSync(log, { force: true });
        resolve((code === 255 ? execStartExitCode(runcLog) : undefined) ?? code ?? (signal ? 128 : 1));
      });
    });
    this.emit("exec_start", state, { execID: String(child.pid ?? 0) });
    void exited
      .then((code) => this.emit("exec_die", state, { exitCode: String(code) }))
      .catch(() => undefined);
    // On a terminal, the end of the client's input is not passed on: script(1) would type the
    // terminal's EOF character into it (a NUL, which `docker exec -t` printed as ^@ and the command
    // read). The terminal goes when the command ends, as Docker's does.
    const stdin = o.tty ? keepOpen(child.stdin!) : child.stdin!;
    let ended = false;
    void exited.finally(() => {
      ended = true;
    });
    const pid = child.pid;
    const resize =
      o.tty && pid !== undefined
        ? (rows: number, cols: number) => resizeScriptTerminal(pid, rows, cols, { ended: () => ended })
        : undefined;
    return { stdin, stdout: child.stdout!, stderr: child.stderr!, exited, ...(resize ? { resize } : {}) };
  }

  /** One sample of a running container's usage, over about half a second. */
  async stats(ref: string): Promise<ContainerStats> {
    const state = await this.inspect(ref);
    if (state.status !== "running") {
      throw new RuntimeError(
        "CONTAINER_NOT_RUNNING",
        `container "${state.name}" is not running; no stats to show`,
      );
    }
    return sampleStats(state, {
      cgroups: this.parts.cgroups,
      network: this.parts.network,
      clock: this.clock,
    });
  }

  /** A running container's processes as the host's ps prints them (`psArgs`, default -ef). */
  async top(ref: string, psArgs: string[]): Promise<ProcessTable> {
    const state = await this.inspect(ref);
    if (state.status !== "running" || state.pid === undefined) {
      throw new RuntimeError(
        "CONTAINER_NOT_RUNNING",
        `container "${state.name}" is not running; start it first`,
      );
    }
    return containerProcesses(state.pid, psArgs);
  }

  /**
   * New limits and restart policy (docker update). A running container's cgroup changes at once
   * (runc update); its config.json and state change too, so the next start keeps them. Limits not
   * given stay as they are.
   */
  async update(ref: string, u: ContainerUpdate): Promise<ContainerState> {
    const state = this.find(ref);
    return this.locked(state.id, async () => {
      const limits = {
        memoryBytes: u.memoryBytes ?? state.memoryBytes,
        cpus: u.cpus ?? state.cpus,
        pids: u.pids ?? state.pids,
        cpuShares: u.cpuShares ?? state.cpuShares,
      };
      checkLimits(limits); // every error names the field
      const changed = this.parts.cgroups.resources({
        memoryBytes: u.memoryBytes,
        cpus: u.cpus,
        pids: u.pids,
        cpuShares: u.cpuShares,
      }) as Record<string, unknown>;
      if (state.status === "running" && Object.keys(changed).length > 0) {
        await this.parts.runc.update(state.id, changed).catch((err: Error) => {
          throw new RuntimeError(
            "INVALID_ARGUMENT",
            `the kernel refused the new limits of "${state.name}": ${err.message}` +
              (u.memoryBytes !== undefined ? "; a memory limit below what the app uses now is refused" : ""),
          );
        });
      }
      rewriteResources(
        join(this.store.containerDir(state.id), "config.json"),
        this.parts.cgroups.resources(limits),
      );
      Object.assign(state, limits);
      if (u.restartPolicy) state.restartPolicy = u.restartPolicy;
      this.store.save(state);
      this.emit("update", state, {});
      return state;
    });
  }

  /** Named volumes with the containers (running or not) that reference each. */
  listVolumes(): Array<VolumeInfo & { usedBy: string[] }> {
    return this.volumes.list().map((v) => ({ ...v, usedBy: this.volumeUsers(v.name) }));
  }

  createVolume(name: string, labels: Record<string, string> = {}): VolumeInfo {
    return this.volumes.create(name, labels);
  }

  /** Refused while any container, even a stopped one, references the volume (as Docker does). */
  removeVolume(name: string): void {
    this.volumes.remove(name, this.volumeUsers(name));
  }

  private volumeUsers(name: string): string[] {
    return [...this.containers.values()]
      .filter((c) => (c.mounts ?? []).some((m) => m.type === "volume" && m.source === name))
      .map((c) => c.name);
  }

  async importImage(tarPath: string, name: string): Promise<ImageInfo> {
    const image = await this.parts.images.import(tarPath, name);
    this.eventLog.emit("image", "import", image.name, { name: image.name });
    return image;
  }

  images(): ImageInfo[] {
    return this.parts.images.list();
  }

  /** The image a name or id (prefix) names; IMAGE_NOT_FOUND otherwise. */
  image(ref: string): ImageInfo {
    return this.parts.images.get(ref);
  }

  /** The bridge network every container joins. */
  network(): BridgeInfo {
    return this.parts.network.info();
  }

  /** Refused (IMAGE_IN_USE, 409) while a container was made from it, unless another name keeps it. */
  async removeImage(name: string): Promise<void> {
    const image = this.parts.images.get(name);
    const otherNames = this.parts.images.list().filter((i) => i.id === image.id && i.name !== image.name);
    const users = [...this.containers.values()].filter((s) => s.imageId === image.id).map((s) => s.name);
    if (users.length > 0 && otherNames.length === 0) {
      throw new ImageError(
        "IMAGE_IN_USE",
        `image "${name}" is used by container(s) ${users.join(", ")}; remove them first ('weft rm -f ${users[0]}')`,
      );
    }
    await this.parts.images.remove(name);
    this.eventLog.emit("image", "delete", name, { name });
  }

  /** The image a build step with this key made before, named `name`; undefined on a miss. */
  cachedStep(key: string, name: string): Promise<ImageInfo | undefined> {
    return this.parts.images.cachedStep?.(key, name) ?? Promise.resolve(undefined);
  }

  /** Keeps image `id` as what the build step with this key makes. */
  async rememberStep(key: string, id: string): Promise<void> {
    await this.parts.images.rememberStep?.(key, id);
  }

  /** What the build cache holds: its steps' images, and the bytes only it keeps. */
  buildCacheUsage(): BuildCacheUsage {
    return this.parts.images.buildCacheUsage?.() ?? { entries: [], bytes: 0 };
  }

  /** Empties the build cache (docker builder prune); returns what it held. */
  async pruneBuildCache(): Promise<BuildCacheUsage> {
    return (await this.parts.images.pruneBuildCache?.()) ?? { entries: [], bytes: 0 };
  }

  /** Gives an image another name, as `docker tag`. */
  async tagImage(source: string, target: string): Promise<ImageInfo> {
    const image = await this.parts.images.tag(source, target);
    this.eventLog.emit("image", "tag", image.name, { name: image.name });
    return image;
  }

  /** An exit the watcher has not handled yet is handled now, so answers are never stale. */
  protected async refresh(state: ContainerState): Promise<void> {
    // A container being stopped is stop()'s to finish: waiting for its lock would hold up `weft ps`.
    if (this.stopping.has(state.id)) return;
    if (state.status === "running" && readExitCode(this.exitFile(state)) !== undefined) {
      await this.noticeExit(state);
    }
  }
}

/** A file's text, or "" when it is not there (runc writes its log only when it has something to say). */
function readFileIfAny(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** A writable that passes writes on to `target` but not its end. */
function keepOpen(target: Writable): Writable {
  target.on("error", () => undefined);
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (target.writableEnded || target.destroyed) return done();
      target.write(chunk, () => done());
    },
    final(done) {
      done();
    },
  });
}
