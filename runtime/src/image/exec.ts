import { execFile } from "node:child_process";

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
export function execTool(
  file: string,
  args: string[],
  timeoutMs = 120_000,
  cwd?: string,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        timeout: timeoutMs,
        cwd,
        env: { ...process.env, LC_ALL: "C" },
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") {
          // Spawn failure (ENOENT) or a kill by the timeout: not an exit code the caller can read.
          reject(new Error(`${file} ${args.join(" ")}: ${err.message}`));
          return;
        }
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
  });
}
