import { type ChildProcess, execFile } from "node:child_process";

/** A command that failed to start, exited non-zero or timed out; carries what a user needs to debug it. */
export class CommandError extends Error {
  override readonly name = "CommandError";
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
    reason: string,
  ) {
    super(`${command}: ${reason}${stderr.trim() ? `: ${stderr.trim()}` : ""}`);
  }
}

export interface RunOptions {
  /** Written to the command's stdin, which is then closed. Default: stdin closed immediately. */
  input?: string;
  /** Kill the command after this long. Default 30000: a wedged `ip` must not hang the daemon. */
  timeoutMs?: number;
}

/** Renders argv so that a user can paste it into a shell to reproduce a failure. */
export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`))
    .join(" ");
}

/**
 * Runs a program without a shell and resolves with its output; rejects with CommandError naming the
 * command and carrying its stderr, so the caller can wrap it in its own component's error.
 */
export function run(
  file: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  return start(file, args, opts).done;
}

/**
 * run() for a program that says how far it got: `reached` resolves once it prints `marker` as a line
 * on stdout (a later step may still fail), and otherwise settles as `done` does when it exits.
 */
export function runWithMarker(
  file: string,
  args: readonly string[],
  marker: string,
  opts: RunOptions = {},
): { reached: Promise<void>; done: Promise<{ stdout: string; stderr: string }> } {
  const { child, done } = start(file, args, opts);
  const reached = new Promise<void>((resolve, reject) => {
    let seen = "";
    child.stdout?.on("data", (chunk: string | Buffer) => {
      seen += chunk.toString();
      if (seen.split("\n").slice(0, -1).includes(marker)) resolve();
    });
    done.then(() => resolve(), reject);
  });
  // Callers that wait on `done` see its failure; `reached` alone must not be an unhandled rejection.
  reached.catch(() => {});
  return { reached, done };
}

function start(
  file: string,
  args: readonly string[],
  opts: RunOptions,
): { child: ChildProcess; done: Promise<{ stdout: string; stderr: string }> } {
  const command = formatCommand(file, args);
  let child: ChildProcess | undefined;
  const done = new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    child = execFile(
      file,
      args,
      {
        encoding: "utf8",
        maxBuffer: 16 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 30_000,
        killSignal: "SIGKILL",
      },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ stdout, stderr });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean; signal?: string | null };
        let reason: string;
        let exitCode: number | null = null;
        if (typeof e.code === "number") {
          exitCode = e.code;
          reason = `exited with status ${e.code}`;
        } else if (e.code === "ENOENT") {
          reason = `${file} not found; install it (Debian: iproute2, iptables, util-linux)`;
        } else if (e.killed || e.signal) {
          reason = `killed by ${e.signal ?? "SIGKILL"}${e.killed ? " after timing out" : ""}`;
        } else {
          reason = e.message;
        }
        reject(new CommandError(command, exitCode, stderr ?? "", stdout ?? "", reason));
      },
    );
  });
  const spawned = child!;
  // A failed write (the program exited without reading stdin) surfaces through the exit callback.
  spawned.stdin?.on("error", () => {});
  spawned.stdin?.end(opts.input ?? "");
  return { child: spawned, done };
}
