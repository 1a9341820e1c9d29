import { execCommand } from "../sys/spawn";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a host tool and resolves with its exit code and output; never rejects on a non-zero exit,
 * because callers decide what an error means (umount's "not mounted" is success for them).
 * LC_ALL=C because callers match the tools' English messages.
 */
export async function execTool(
  file: string,
  args: string[],
  timeoutMs = 120_000,
  cwd?: string,
): Promise<ExecResult> {
  const res = await execCommand(file, args, {
    timeoutMs,
    cwd,
    env: { ...process.env, LC_ALL: "C" },
    maxBuffer: 256 * 1024 * 1024,
  }).catch((err: Error) => {
    throw new Error(`${file} ${args.join(" ")}: ${err.message}`);
  });
  if (res.code === null) {
    // Killed (by the timeout): not an exit code the caller can read.
    throw new Error(
      `${file} ${args.join(" ")}: killed by ${res.signal ?? "SIGKILL"}${res.killed ? " after timing out" : ""}`,
    );
  }
  return { code: res.code, stdout: res.stdout, stderr: res.stderr };
}
