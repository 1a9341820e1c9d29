// A probe command run as a host process with a deadline: what HealthDeps.exec needs, for an engine
// that runs probes through a command (e.g. `runc exec`). The process gets its own process group so
// that a probe that hangs in a child (`sh -c "sleep 1000"`) is killed whole.
import { spawn } from "node:child_process";
import { MAX_OUTPUT_BYTES, PROBE_ERROR_EXIT } from "./probe";

/** Runs argv; stdout and stderr together, capped; after timeoutMs the group is SIGKILLed (exit -1). */
export function execWithTimeout(
  argv: string[],
  timeoutMs: number,
): Promise<{ exitCode: number; output: string }> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    if (!cmd) {
      resolve({ exitCode: PROBE_ERROR_EXIT, output: "empty health check command" });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    const collect = (c: Buffer) => {
      if (size >= MAX_OUTPUT_BYTES) return;
      chunks.push(c.subarray(0, MAX_OUTPUT_BYTES - size));
      size += Math.min(c.length, MAX_OUTPUT_BYTES - size);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        // Negative pid: the whole group, so grandchildren holding the pipes die too.
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve({ exitCode: PROBE_ERROR_EXIT, output: `cannot run ${cmd}: ${err.message}` });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      const output = Buffer.concat(chunks).toString("utf8");
      if (timedOut) {
        resolve({
          exitCode: PROBE_ERROR_EXIT,
          output: `health check timed out after ${timeoutMs} ms\n${output}`,
        });
      } else {
        resolve({ exitCode: code ?? PROBE_ERROR_EXIT, output });
      }
    });
  });
}
