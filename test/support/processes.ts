// Starting real weft processes for tests that cross components: the built CLI (dist/weft.cjs), as a
// user runs it, with its own state dirs, ports, bridge and subnet so tests never collide.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../cli/index";

export const WEFT = join(packageRoot(), "dist", "weft.cjs");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `weft ARGS` to completion; never rejects (the exit code is in the result). */
export function weft(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [WEFT, ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A temp dir under /tmp/weft-test-* that uid 1337 can traverse (the sidecar reads files below it). */
export function testDir(): string {
  const dir = mkdtempSync("/tmp/weft-test-");
  chmodSync(dir, 0o711);
  return dir;
}

export function hex(bytes = 3): string {
  return randomBytes(bytes).toString("hex");
}

export interface LongRunning {
  child: ChildProcess;
  /** The line the process printed when it became ready. */
  readyLine: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `weft ARGS` in the background and resolves once it prints a line matching `ready`. */
export function startWeft(
  args: string[],
  ready: RegExp,
  timeoutMs = 30_000,
  env: NodeJS.ProcessEnv = {},
): Promise<LongRunning> {
  const child = spawn(process.execPath, [WEFT, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`weft ${args[0]} not ready after ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => ready.test(l));
      if (line) {
        clearTimeout(timer);
        resolve({
          child,
          readyLine: line,
          output: () => out,
          stop: () => stopChild(child),
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`weft ${args[0]} exited with ${code} before it was ready:\n${out}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}
