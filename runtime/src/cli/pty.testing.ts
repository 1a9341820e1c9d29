// Test helper (not part of the public surface): a command line run under script(1), which gives it a
// pseudo-terminal (`run -it`, `attach` to a -t container), with its output watched and input typed.
import { type ChildProcess, spawn } from "node:child_process";

export interface PtySession {
  child: ChildProcess;
  /** Everything printed so far (the terminal's output: \r\n line ends, escape sequences). */
  output(): string;
  /** Resolves with the output once `pattern` shows up; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Types into the terminal. */
  type(text: string): void;
  /** The command's exit code (script -e passes it through). */
  exited: Promise<number>;
}

/** `size` sets the terminal's rows and columns before the command runs. */
export function ptySession(
  commandLine: string,
  env: NodeJS.ProcessEnv,
  size?: { rows: number; cols: number },
): PtySession {
  const line = size ? `stty rows ${size.rows} cols ${size.cols}; ${commandLine}` : commandLine;
  const child = spawn("script", ["-qefc", line, "/dev/null"], { env, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const waiters = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const w of waiters) w();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1))),
  );
  return {
    child,
    output: () => out,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(out)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(out);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(out)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    type: (text) => {
      child.stdin?.write(text);
    },
    exited,
  };
}
