import { type ChildProcess, spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { execCommand, type SpawnedProcess, spawnProcess } from "../sys/spawn";
import { commandHint } from "./start-errors";

/** RUNC_FAILED: runc refused or failed (message holds its stderr); NOT_FOUND: no such container. */
export type RuncErrorCode = "RUNC_FAILED" | "NOT_FOUND";

/** The part of OCI linux.resources `runc update` changes. */
export interface UpdateResources {
  memory?: { limit?: number };
  cpu?: { quota?: number; period?: number; shares?: number };
  pids?: { limit?: number };
}

export class RuncError extends Error {
  override name = "RuncError";
  constructor(
    readonly code: RuncErrorCode,
    message: string,
    /** runc's own error output, for logs. */
    readonly stderr = "",
  ) {
    super(message);
  }
}

export interface RuncState {
  status: string;
  pid: number;
}

const NOT_EXIST = /does not exist/;

/** runc with one --root (keep it under the daemon's state dir, so a restarted daemon finds its containers). */
export class Runc {
  private readonly root: string;
  private readonly binary: string;

  constructor(o: { root: string; binary?: string }) {
    this.root = o.root;
    this.binary = o.binary ?? "runc";
  }

  /**
   * Creates and starts the container detached (`runc run -d`); resolves with its pid once started.
   * The container inherits io.stdout/io.stderr (file descriptors), so it keeps writing to them even
   * if this process dies. runc's own log goes to BUNDLE/runc.log, which is where errors are read from.
   */
  async run(id: string, bundle: string, io: { stdout: number; stderr: number }): Promise<number> {
    const pidFile = join(bundle, "pid");
    const logFile = join(bundle, "runc.log");
    await rm(pidFile, { force: true });
    await rm(logFile, { force: true });
    const args = ["--log", logFile, "--log-format", "json", "run", "-d", "--pid-file", pidFile];
    let child: SpawnedProcess;
    try {
      child = spawnProcess(this.binary, ["--root", this.root, ...args, "--bundle", bundle, id], {
        stdio: ["ignore", io.stdout, io.stderr],
      });
    } catch (err) {
      throw new RuncError("RUNC_FAILED", `cannot start runc: ${(err as Error).message}`);
    }
    const exit = await child.exited;
    const code = exit.code ?? 128;
    if (code !== 0) {
      const log = await readFile(logFile, "utf8").catch(() => "");
      const detail = runcLogErrors(log) || `runc exited with ${code} and logged nothing`;
      throw new RuncError(
        "RUNC_FAILED",
        `runc run ${id} failed: ${detail}; ${hint(detail, this.root)}`,
        detail,
      );
    }
    const pid = Number.parseInt(await readFile(pidFile, "utf8"), 10);
    if (!Number.isInteger(pid) || pid <= 0) {
      throw new RuncError("RUNC_FAILED", `runc run ${id} wrote no pid to ${pidFile}`);
    }
    return pid;
  }

  /** Starts a container made by `runc create` (under conmon); the app runs once this resolves. */
  async start(id: string): Promise<void> {
    const res = await this.call(["start", id]);
    if (res.code !== 0) throw this.failure(["start", id], res.stderr);
  }

  /** Status ("created", "running", "paused", "stopped") and pid, or undefined for an unknown id. */
  async state(id: string): Promise<RuncState | undefined> {
    const res = await this.call(["state", id]);
    if (res.code !== 0) {
      if (NOT_EXIST.test(res.stderr)) return undefined;
      throw this.failure(["state", id], res.stderr);
    }
    const s = JSON.parse(res.stdout) as { status: string; pid: number };
    return { status: s.status, pid: s.pid };
  }

  /** Sends a signal (e.g. "TERM", "SIGKILL", "9"); a no-op if the container is no longer running. */
  async kill(id: string, signal: string): Promise<void> {
    const res = await this.call(["kill", id, signal]);
    if (res.code === 0 || /not running/.test(res.stderr)) return;
    if (NOT_EXIST.test(res.stderr))
      throw new RuncError("NOT_FOUND", `container ${id} does not exist in runc`);
    throw this.failure(["kill", id, signal], res.stderr);
  }

  /** Freezes every process of the container (the cgroup freezer; v1 and v2 alike). */
  async pause(id: string): Promise<void> {
    const res = await this.call(["pause", id]);
    if (res.code !== 0) throw this.failure(["pause", id], res.stderr);
  }

  /** Thaws a paused container. */
  async resume(id: string): Promise<void> {
    const res = await this.call(["resume", id]);
    if (res.code !== 0) throw this.failure(["resume", id], res.stderr);
  }

  /** Changes the limits of a created or running container's cgroup (OCI linux.resources: memory, cpu, pids). */
  async update(id: string, r: UpdateResources): Promise<void> {
    const args = ["update"];
    if (r.memory?.limit !== undefined) args.push("--memory", String(r.memory.limit));
    if (r.cpu?.quota !== undefined) args.push("--cpu-quota", String(r.cpu.quota));
    if (r.cpu?.period !== undefined) args.push("--cpu-period", String(r.cpu.period));
    if (r.cpu?.shares !== undefined) args.push("--cpu-share", String(r.cpu.shares));
    if (r.pids?.limit !== undefined) args.push("--pids-limit", String(r.pids.limit));
    args.push(id);
    const res = await this.call(args);
    if (res.code !== 0) throw this.failure(args, res.stderr);
  }

  /** Deletes the container's runc state (and cgroup); force kills a running one. Idempotent. */
  async delete(id: string, force = false): Promise<void> {
    const args = force ? ["delete", "--force", id] : ["delete", id];
    const res = await this.call(args);
    if (res.code === 0 || NOT_EXIST.test(res.stderr)) return;
    throw this.failure(args, res.stderr);
  }

  /**
   * Starts `runc exec` and hands back the child: its stdio are the process's, its exit code is the
   * process's. The process inherits the container's env, user and cwd from config.json.
   * `runc exec -t` insists on a terminal on its own stdin, which a daemon does not have, so with tty
   * runc runs under script(1), which gives it one and passes the exit code through; output then has
   * terminal line endings (\r\n), as `docker exec -t` does.
   */
  exec(
    id: string,
    args: string[],
    o: {
      tty?: boolean;
      env?: string[];
      user?: { uid: number; gid: number };
      cwd?: string;
      log?: string;
    } = {},
  ): ChildProcess {
    const stdio: ["pipe", "pipe", "pipe"] = ["pipe", "pipe", "pipe"];
    // runc's own options go before the container id; everything after it is the command.
    const opts: string[] = [];
    for (const e of o.env ?? []) opts.push("--env", e);
    if (o.user) opts.push("--user", `${o.user.uid}:${o.user.gid}`);
    if (o.cwd) opts.push("--cwd", o.cwd);
    // With a log file, runc's failure is there as JSON, and on stderr without its log prefix.
    const global = ["--root", this.root, ...(o.log ? ["--log", o.log, "--log-format", "json"] : [])];
    if (!o.tty) return spawn(this.binary, [...global, "exec", ...opts, id, ...args], { stdio });
    const command = [this.binary, ...global, "exec", "-t", ...opts, id, ...args].map(shellQuote).join(" ");
    return spawn("script", ["--quiet", "--flush", "--return", "--command", command, "/dev/null"], {
      stdio,
      env: { ...process.env, SHELL: "/bin/sh" },
    });
  }

  /** Every container under this root. */
  async list(): Promise<Array<{ id: string; status: string; pid: number }>> {
    const res = await this.call(["list", "--format", "json"]);
    if (res.code !== 0) throw this.failure(["list"], res.stderr);
    // runc prints "null" rather than [] when there are none.
    const parsed = JSON.parse(res.stdout) as Array<{ id: string; status: string; pid: number }> | null;
    return (parsed ?? []).map((c) => ({ id: c.id, status: c.status, pid: c.pid }));
  }

  private async call(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const res = await execCommand(this.binary, ["--root", this.root, ...args], { timeoutMs: 60_000 }).catch(
      (err: Error) => {
        throw new RuncError("RUNC_FAILED", `runc ${args.join(" ")}: ${err.message}`);
      },
    );
    if (res.code === null) {
      throw new RuncError(
        "RUNC_FAILED",
        `runc ${args.join(" ")}: killed by ${res.signal ?? "SIGKILL"}${res.killed ? " after 60 s" : ""}`,
      );
    }
    return { code: res.code, stdout: res.stdout, stderr: res.stderr };
  }

  private failure(args: string[], stderr: string): RuncError {
    const detail = stderr.trim() || "no output";
    return new RuncError(
      "RUNC_FAILED",
      `runc ${args.join(" ")} failed: ${detail}; ${hint(detail, this.root)}`,
      detail,
    );
  }
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The error and fatal messages of a runc --log-format json log. */
function runcLogErrors(log: string): string {
  const msgs: string[] = [];
  for (const line of log.split("\n")) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === "error" || entry.level === "fatal") && entry.msg) msgs.push(entry.msg);
    } catch {
      // a partial last line: skip
    }
  }
  return msgs.join("; ");
}

/** What the user can do about the usual failures. */
function hint(detail: string, root: string): string {
  const command = commandHint(detail);
  if (command) return command;
  if (/already exists/.test(detail)) {
    return `remove the old container first ('runc --root ${root} delete -f ID')`;
  }
  if (/cgroup/.test(detail)) return "check the cgroup parent and the resource limits";
  if (/netns|network/.test(detail)) return "check that the workload's network namespace still exists";
  return `see the bundle's config.json and 'runc --root ${root} list'`;
}
