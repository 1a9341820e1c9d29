// Test helper (not part of the public surface): the real docker CLI pointed at a weft socket, with its
// own DOCKER_CONFIG and nothing from the caller's DOCKER_* environment.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const DOCKER = "/usr/local/bin/docker";

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface DockerCli {
  /** Runs `docker -H unix://SOCKET ARGS`; never rejects. `input` is written to its stdin. */
  run(args: string[], o?: { input?: string; timeoutMs?: number }): Promise<DockerResult>;
  /** Starts a long-running command (logs -f, events); the caller kills it. */
  spawn(args: string[]): ChildProcess;
  /** The command line for script(1), which gives the CLI a pty (`run -it`, `exec -it`). */
  commandLine(args: string[]): string;
  env: NodeJS.ProcessEnv;
  close(): void;
}

export function dockerCli(socket: string): DockerCli {
  const config = mkdtempSync(join(tmpdir(), "weft-docker-config-"));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: config,
    DOCKER_CONFIG: config,
    TERM: "xterm",
  };
  const base = ["-H", `unix://${socket}`];
  return {
    env,
    run: (args, o = {}) =>
      new Promise((resolve) => {
        const child = execFile(
          DOCKER,
          [...base, ...args],
          { env, timeout: o.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
          (err, stdout, stderr) => {
            const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
        child.stdin?.end(o.input);
      }),
    spawn: (args) => spawn(DOCKER, [...base, ...args], { env, stdio: ["ignore", "pipe", "pipe"] }),
    commandLine: (args) => [DOCKER, ...base, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" "),
    close: () => rmSync(config, { recursive: true, force: true }),
  };
}

/** Resolves with everything `child` printed once `pattern` shows up in its stdout (rejects on timeout). */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(out)}`)),
      timeoutMs,
    );
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
  });
}
