// Running host commands (ip, iptables, mount, runc, conmon, the sidecar) without forking the daemon.
// Node's child_process uses fork(2): it copies the daemon's page tables and then waits for the
// child's exec, about 10 ms of blocked event loop per command here, and a container's create and
// removal run about ten commands. spawnProcess() goes through posix_spawn (weftsys.node), as Go's
// os/exec does; execCommand() is execFile's shape on top of it.
import { Socket } from "node:net";
import { constants } from "node:os";
import { weftSys } from "./native";

/** What a child's fd is: /dev/null, a pipe to this process, or one of this process's fds. */
export type StdioSpec = "ignore" | "pipe" | number;

export interface SpawnOptions {
  /** Default: the daemon's own environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** fds 0, 1, 2 and up. Default ["ignore", "pipe", "pipe"]. */
  stdio?: readonly StdioSpec[];
  /** A session of its own (setsid), as child_process's `detached`. */
  detached?: boolean;
  /** false: a running child does not keep the process alive (child.unref()). Default true. */
  keepAlive?: boolean;
}

export interface Exit {
  /** The exit status, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedProcess {
  pid: number;
  /** The parent's end of each "pipe" entry (undefined for the others): written for fd 0, read for the rest. */
  stdio: Array<Socket | undefined>;
  /** Settles once the child has exited (and is reaped); never rejects. */
  exited: Promise<Exit>;
  /** Sends a signal; false when the child has already exited. */
  kill(signal?: NodeJS.Signals): boolean;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

function envArray(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const k in env) {
    const v = env[k];
    if (v !== undefined) out.push(`${k}=${v}`);
  }
  return out;
}

/**
 * Starts `file` (looked up in this process's PATH, whatever `env` gives the child) with `args`.
 * Throws at once, as an Error with code ENOENT, EACCES, ..., when it cannot be started.
 */
export function spawnProcess(file: string, args: readonly string[], o: SpawnOptions = {}): SpawnedProcess {
  const stdio = o.stdio ?? ["ignore", "pipe", "pipe"];
  let exited = false;
  let settle: (e: Exit) => void = () => undefined;
  const exit = new Promise<Exit>((resolve) => {
    settle = resolve;
  });
  const [pid, ...ends] = weftSys().spawn(
    file,
    args,
    o.env ? envArray(o.env) : null,
    o.cwd ?? null,
    stdio.map((s) => (s === "ignore" ? -1 : s === "pipe" ? -2 : s)),
    o.detached ?? false,
    o.keepAlive ?? true,
    (code, signal) => {
      exited = true;
      settle({ code, signal: signal === null ? null : (SIGNAL_NAMES.get(signal) ?? null) });
    },
  );
  const streams = ends.map((fd, i) =>
    fd < 0 ? undefined : new Socket({ fd, readable: i !== 0, writable: i === 0 }),
  );
  return {
    pid: pid!,
    stdio: streams,
    exited: exit,
    kill(signal = "SIGTERM") {
      if (exited) return false;
      try {
        // The pid stays this child's until it is reaped, which only happens once it has exited.
        process.kill(pid!, signal);
        return true;
      } catch {
        return false;
      }
    },
  };
}

export interface ExecOptions {
  /** Written to stdin, which is then closed. Default: stdin is /dev/null. */
  input?: string;
  /** SIGKILL after this long. Default: none. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Output kept per stream; more is cut off (and the command killed, as execFile does). Default 16 MiB. */
  maxBuffer?: number;
}

export interface ExecResult extends Exit {
  stdout: string;
  stderr: string;
  /** Killed by the timeout or for too much output. */
  killed: boolean;
}

/**
 * Runs a command to its end and collects its output (execFile's shape, without the fork): resolves
 * with the exit status whatever it is, once it has exited and closed its output. Rejects only when
 * it cannot be started (code ENOENT, EACCES, ...).
 */
export function execCommand(file: string, args: readonly string[], o: ExecOptions = {}): Promise<ExecResult> {
  let child: SpawnedProcess;
  try {
    child = spawnProcess(file, args, {
      stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: o.env,
      cwd: o.cwd,
    });
  } catch (err) {
    return Promise.reject(err);
  }
  const max = o.maxBuffer ?? 16 * 1024 * 1024;
  let killed = false;
  const kill = () => {
    killed = true;
    child.kill("SIGKILL");
  };
  const collect = (s: Socket | undefined) =>
    new Promise<string>((resolve) => {
      if (!s) return resolve("");
      const chunks: Buffer[] = [];
      let size = 0;
      s.on("data", (b: Buffer) => {
        if (size >= max) return;
        chunks.push(b);
        size += b.length;
        if (size >= max) kill();
      });
      s.on("error", () => undefined);
      s.on("close", () => resolve(Buffer.concat(chunks).toString("utf8", 0, Math.min(size, max))));
    });
  const stdin = child.stdio[0];
  if (stdin) {
    // A command that exits without reading its input: the failed write is not this call's error.
    stdin.on("error", () => undefined);
    stdin.end(o.input ?? "");
  }
  const timer = o.timeoutMs === undefined ? undefined : setTimeout(kill, o.timeoutMs);
  return Promise.all([child.exited, collect(child.stdio[1]), collect(child.stdio[2])]).then(
    ([exit, stdout, stderr]) => {
      clearTimeout(timer);
      return { ...exit, stdout, stderr, killed };
    },
  );
}
