import { execCommand } from "../sys/spawn";

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
 * command and carrying its stderr, so the caller can wrap it in its own component's error. It runs
 * through posix_spawn (sys/spawn.ts): forking the daemon for each command blocked its loop.
 */
export async function run(
  file: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const command = formatCommand(file, args);
  const res = await execCommand(file, args, {
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 30_000,
  }).catch((err: NodeJS.ErrnoException) => {
    const reason =
      err.code === "ENOENT"
        ? `${file} not found; install it (Debian: iproute2, iptables, util-linux)`
        : err.message;
    throw new CommandError(command, null, "", "", reason);
  });
  if (res.code === 0) return { stdout: res.stdout, stderr: res.stderr };
  const reason =
    res.code !== null
      ? `exited with status ${res.code}`
      : `killed by ${res.signal ?? "SIGKILL"}${res.killed ? " after timing out" : ""}`;
  throw new CommandError(command, res.code, res.stderr, res.stdout, reason);
}
