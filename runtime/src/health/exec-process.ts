// A probe command run as a host process with a deadline: what HealthDeps.exec needs, for an engine
// that runs probes through a command (e.g. `runc exec`). The process gets its own process group so
// that a probe that hangs in a child (`sh -c "sleep 1000"`) is killed whole.
import { type SpawnedProcess, spawnProcess } from "../sys/spawn";
import { MAX_OUTPUT_BYTES, PROBE_ERROR_EXIT } from "./probe";

/** Runs argv; stdout and stderr together, capped; after timeoutMs the group is SIGKILLed (exit -1). */
export async function execWithTimeout(
  argv: string[],
  timeoutMs: number,
): Promise<{ exitCode: number; output: string }> {
  const [cmd, ...args] = argv;
  if (!cmd) return { exitCode: PROBE_ERROR_EXIT, output: "empty health check command" };
  let child: SpawnedProcess;
  try {
    // posix_spawn (sys/spawn.ts): probes run every few seconds per container, and a fork of the
    // daemon blocked its loop each time.
    child = spawnProcess(cmd, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  } catch (err) {
    return { exitCode: PROBE_ERROR_EXIT, output: `cannot run ${cmd}: ${(err as Error).message}` };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = (c: Buffer) => {
    if (size >= MAX_OUTPUT_BYTES) return;
    chunks.push(c.subarray(0, MAX_OUTPUT_BYTES - size));
    size += Math.min(c.length, MAX_OUTPUT_BYTES - size);
  };
  const closed = [child.stdio[1], child.stdio[2]].map(
    (s) =>
      new Promise<void>((resolve) => {
        s?.on("data", collect);
        s?.on("error", () => undefined);
        s?.once("close", () => resolve());
      }),
  );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      // Negative pid: the whole group, so grandchildren holding the pipes die too.
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }, timeoutMs);
  const [exit] = await Promise.all([child.exited, ...closed]);
  clearTimeout(timer);
  const output = Buffer.concat(chunks).toString("utf8");
  if (timedOut) {
    return { exitCode: PROBE_ERROR_EXIT, output: `health check timed out after ${timeoutMs} ms\n${output}` };
  }
  return { exitCode: exit.code ?? PROBE_ERROR_EXIT, output };
}
