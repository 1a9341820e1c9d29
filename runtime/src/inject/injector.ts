// Sidecar injection: starts the proxy in the workload's netns as uid 1337 in its own cgroup, waits
// until it says it is ready, then turns on interception. Any failure removes what it made.
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import type { Clock, InjectorPart, Logger, SidecarStart } from "../engine/parts";
import { RuntimeError } from "../errors";
import { processRuns } from "../sys/proc";
import { spawnProcess } from "../sys/spawn";
import { installSidecarBundle } from "./install";
import { sidecarCommand } from "./sidecar-args";

export interface InjectorOptions {
  stateDir: string;
  /** The build's dist/: the sidecar's folder dist/sidecar is installed from there. */
  distDir: string;
  controlPlane: string;
  /** The control plane's --token: the sidecar's WEFT_TOKEN, for its certificate requests. */
  token?: string;
  cgroupParent: string;
  /** Default 128 MiB. */
  memoryBytes?: number;
  /** Default 15000. */
  readyTimeoutMs?: number;
  cgroups: {
    create(path: string, limits: { memoryBytes?: number }): Promise<void>;
    addProcess(path: string, pid: number): Promise<void>;
    remove(path: string): Promise<void>;
  };
  /** iptables-restore text for the netns (the sidecar's redirectRules()). */
  rules: (labels: Record<string, string>) => string;
  applyIptables(netns: string, rules: string): Promise<void>;
  clock: Clock;
  logger: Logger;
  /** Default process.execPath. */
  nodePath?: string;
}

export const HEALTH_PORT = 15021;

export class SidecarInjector implements InjectorPart {
  private script?: string;

  constructor(private readonly o: InjectorOptions) {}

  async start(s: SidecarStart): Promise<{ pid: number; cgroupPath: string }> {
    this.script ??= installSidecarBundle(this.o.stateDir, this.o.distDir);
    const cgroupPath = `/${this.o.cgroupParent}/${s.id}-sidecar`;
    await this.o.cgroups.create(cgroupPath, { memoryBytes: this.o.memoryBytes ?? 128 * 1024 * 1024 });
    const logPath = join(s.dir, "sidecar.log");
    let pid: number | undefined;
    try {
      const [cmd, ...args] = sidecarCommand({
        nodePath: this.o.nodePath ?? process.execPath,
        script: this.script,
        controlPlane: this.o.controlPlane,
        start: s,
      });
      const log = openSync(logPath, "a", 0o640);
      let exited: string | undefined;
      try {
        // Own process group (detached): a signal to the daemon's group does not reach it, and stop()
        // can signal nsenter and node together.
        // posix_spawn (sys/spawn.ts): a fork of the daemon blocked its loop for each sidecar.
        const child = spawnProcess(cmd!, args, {
          detached: true,
          keepAlive: false,
          stdio: ["ignore", log, log],
          // The token in the environment, not argv: /proc/PID/environ is the owner's to read.
          env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: "/nonexistent",
            ...(this.o.token ? { WEFT_TOKEN: this.o.token } : {}),
          },
        });
        void child.exited.then(({ code, signal }) => {
          exited = `exited with ${signal ?? `code ${code}`}`;
        });
        pid = child.pid;
      } finally {
        closeSync(log);
      }
      await this.o.cgroups.addProcess(cgroupPath, pid);
      // The capture rules go in while the sidecar boots: the app has not started, so nothing is
      // redirected yet, and the sidecar's own traffic and the health port are exempt anyway.
      const [ready, rules] = await Promise.allSettled([
        this.waitReady(s, logPath, () => exited),
        this.o.applyIptables(s.netns, this.o.rules(s.labels)),
      ]);
      if (ready.status === "rejected") throw ready.reason;
      if (rules.status === "rejected") throw rules.reason;
      this.o.logger.info(`sidecar of ${s.name} ready (pid ${pid})`);
      return { pid, cgroupPath };
    } catch (err) {
      await this.stop(pid, 1000);
      await this.cleanup(cgroupPath).catch(() => undefined);
      throw err;
    }
  }

  async stop(pid: number | undefined, graceMs: number): Promise<void> {
    if (pid === undefined || !processRuns(pid)) return;
    signalGroup(pid, "SIGTERM");
    const deadline = this.o.clock.now().getTime() + graceMs;
    while (processRuns(pid) && this.o.clock.now().getTime() < deadline) await this.o.clock.sleep(50);
    if (!processRuns(pid)) return;
    signalGroup(pid, "SIGKILL");
    while (processRuns(pid)) await this.o.clock.sleep(20);
  }

  cleanup(cgroupPath: string): Promise<void> {
    return this.o.cgroups.remove(cgroupPath);
  }

  alive(pid: number): boolean {
    return processRuns(pid);
  }

  private async waitReady(s: SidecarStart, logPath: string, exited: () => string | undefined): Promise<void> {
    const url = `http://${s.address}:${HEALTH_PORT}/healthz/ready`;
    const timeoutMs = this.o.readyTimeoutMs ?? 15_000;
    const deadline = this.o.clock.now().getTime() + timeoutMs;
    let last = "no answer";
    for (;;) {
      const why = exited();
      if (why) throw this.failure(`the sidecar of ${s.name} ${why} before it was ready`, logPath);
      const answer = await httpAnswer(url, 1000).catch((err: Error) => err.message);
      if (typeof answer !== "string" && answer.status === 200) return;
      // The sidecar's 503 says what it waits for (config, tracing): keep it for the error.
      last =
        typeof answer === "string"
          ? answer
          : `HTTP ${answer.status}${answer.reason ? `: ${answer.reason}` : ""}`;
      if (this.o.clock.now().getTime() >= deadline) {
        throw this.failure(
          `the sidecar of ${s.name} was not ready within ${timeoutMs / 1000} s (${url}: ${last})`,
          logPath,
        );
      }
      // Often at first (a sidecar is ready in a few hundred ms and the app waits on it), then calmer.
      await this.o.clock.sleep(this.o.clock.now().getTime() < deadline - timeoutMs + 2000 ? 10 : 100);
    }
  }

  private failure(message: string, logPath: string): RuntimeError {
    const tail = existsSync(logPath)
      ? readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-15).join("\n")
      : "";
    return new RuntimeError(
      "SIDECAR_FAILED",
      `${message}; is the control plane up? last lines of ${logPath}:\n${tail || "(empty)"}`,
    );
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
}

/** GET url: the status and the first line of the body (up to 200 characters). */
function httpAnswer(url: string, timeoutMs: number): Promise<{ status: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (body.length < 200) body += chunk;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, reason: (body.split("\n")[0] ?? "").slice(0, 200) }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}
