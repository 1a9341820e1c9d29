// Exec instances: Docker splits `docker exec` into create (POST /containers/{id}/exec, answers an id),
// start (hijacked) and inspect (the CLI reads ExitCode from it). They live in memory: an exec does not
// outlive the daemon's connection to it.
import { randomBytes } from "node:crypto";
import type { ExecOptions } from "./engine";
import { badRequest, dockerEnv, dockerError } from "./wire";

export interface ExecInstance {
  id: string;
  containerId: string;
  options: ExecOptions;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  finishedAtMs?: number;
  /** The terminal's size to set: from the start's ConsoleSize or a resize before the start. */
  size?: { rows: number; cols: number };
  /** Sets the running exec's terminal size (a -t exec once started). */
  resize?(rows: number, cols: number): Promise<boolean>;
}

/** Finished execs are forgotten after this long (the CLI inspects right after the stream ends). */
const KEEP_FINISHED_MS = 10 * 60_000;
const MAX_INSTANCES = 1000;

function strings(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string"))
    throw badRequest(`${field} must be a list of strings`);
  return v as string[];
}

export class ExecStore {
  private readonly execs = new Map<string, ExecInstance>();

  /** Validates Docker's ExecConfig body and keeps a new instance. */
  create(containerId: string, input: unknown): ExecInstance {
    this.prune();
    const body = (input && typeof input === "object" ? input : {}) as Record<string, unknown>;
    const cmd = strings(body.Cmd, "Cmd");
    if (!cmd || cmd.length === 0) throw badRequest("No exec command specified");
    if (body.Privileged === true)
      throw badRequest("Privileged is not supported on exec; create the container with --privileged");
    const workdir =
      typeof body.WorkingDir === "string" && body.WorkingDir !== "" ? body.WorkingDir : undefined;
    const user = typeof body.User === "string" && body.User !== "" ? body.User : undefined;
    const exec: ExecInstance = {
      id: randomBytes(32).toString("hex"),
      containerId,
      options: { cmd, tty: body.Tty === true, env: dockerEnv(body.Env, "Env"), user, workdir },
      attachStdin: body.AttachStdin === true,
      attachStdout: body.AttachStdout !== false,
      attachStderr: body.AttachStderr !== false,
      running: false,
      started: false,
      exitCode: null,
      pid: 0,
    };
    this.execs.set(exec.id, exec);
    return exec;
  }

  get(id: string): ExecInstance {
    const exec = this.execs.get(id);
    if (!exec) throw dockerError(404, `No such exec instance: ${id}`);
    return exec;
  }

  /** GET /exec/{id}/json. */
  inspect(id: string) {
    const e = this.get(id);
    return {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: {
        tty: e.options.tty,
        entrypoint: e.options.cmd[0],
        arguments: e.options.cmd.slice(1),
        privileged: false,
        user: e.options.user ?? "",
      },
      OpenStdin: e.attachStdin,
      OpenStderr: e.attachStderr,
      OpenStdout: e.attachStdout,
      CanRemove: false,
      ContainerID: e.containerId,
      DetachKeys: "",
      Pid: e.pid,
    };
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, e] of this.execs) {
      if (e.finishedAtMs !== undefined && now - e.finishedAtMs > KEEP_FINISHED_MS) this.execs.delete(id);
    }
    // Created but never started ones pile up only from a misbehaving client: drop the oldest.
    while (this.execs.size >= MAX_INSTANCES) {
      const oldest = this.execs.keys().next().value;
      if (oldest === undefined) break;
      this.execs.delete(oldest);
    }
  }
}
