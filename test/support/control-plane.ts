// A real `weft control-plane` process for tests that must kill it (SIGKILL) and start it again on the
// same ports, unix socket and data dir, as an operator's supervisor would.
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { type LongRunning, startWeft, testDir } from "./processes";

export interface ControlPlaneProcess {
  dir: string;
  dataDir: string;
  socketPath: string;
  grpcPort: number;
  httpPort: number;
  httpUrl: string;
  /** The running process (replaced by restart()). */
  current(): LongRunning;
  /** Everything every incarnation printed. */
  output(): string;
  /** SIGKILL, no chance to clean up; resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it again with the same flags; resolves once ready. */
  restart(): Promise<void>;
  /** Stops it (SIGTERM) and removes its dir unless `keepDir`. */
  close(): Promise<void>;
}

/** A port nobody listens on right now (bound and released), for flags that cannot take 0 twice. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ControlPlaneProcessOptions {
  /** Extra flags, e.g. ["--token", "T"]. */
  args?: string[];
  /** Extra environment. */
  env?: NodeJS.ProcessEnv;
  /** A dir to use (kept on close); default a fresh /tmp/weft-test-* removed on close. */
  dir?: string;
}

export async function startControlPlaneProcess(
  o: ControlPlaneProcessOptions = {},
): Promise<ControlPlaneProcess> {
  const dir = o.dir ?? testDir();
  const dataDir = join(dir, "control-plane");
  const socketPath = join(dir, "cp.sock");
  let grpcPort = 0;
  let httpPort = 0;
  let args: string[] = [];
  const logs: string[] = [];
  const launch = () => startWeft(args, /control plane ready/, 30_000, o.env ?? {});
  let proc: LongRunning | undefined;
  for (let attempt = 1; !proc; attempt++) {
    grpcPort = await freePort();
    do httpPort = await freePort();
    while (httpPort === grpcPort);
    args = [
      "control-plane",
      ...["--data-dir", dataDir, "--grpc-port", String(grpcPort), "--http-port", String(httpPort)],
      ...["--grpc-socket", socketPath],
      // Never the well-known 4317/4318 or 8600: tests run side by side, and a developer's demo may
      // hold them.
      ...(o.args?.includes("--otlp-grpc-port") ? [] : ["--otlp-grpc-port", "0"]),
      ...(o.args?.includes("--otlp-http-port") ? [] : ["--otlp-http-port", "0"]),
      ...(o.args?.includes("--dns-port") ? [] : ["--dns-port", "0"]),
      ...(o.args ?? []),
    ];
    try {
      proc = await launch();
    } catch (err) {
      // A port free a moment ago can be taken by a test running alongside before the control plane
      // binds it (CI saw "HTTP port 35125 ... already in use"): pick others, a few times.
      if (attempt >= 3 || !/already in use/.test((err as Error).message)) {
        if (!o.dir) rmSync(dir, { recursive: true, force: true }); // close() will never run
        throw err;
      }
    }
  }
  let running: LongRunning = proc;
  const exited = (p: LongRunning) =>
    p.child.exitCode !== null || p.child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => p.child.once("exit", () => r()));
  return {
    dir,
    dataDir,
    socketPath,
    grpcPort,
    httpPort,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    current: () => running,
    output: () => [...logs, running.output()].join("\n"),
    async kill() {
      const gone = exited(running);
      running.child.kill("SIGKILL");
      await gone;
      logs.push(running.output());
    },
    async restart() {
      running = await launch();
    },
    async close() {
      await running.stop();
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
