// `weft daemon`: the runtime engine behind the Engine API socket. Containers outlive it: on
// SIGTERM/SIGINT it closes the socket and stops registering, and the next daemon adopts them again.
import { chmodSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { type Command, packageRoot, parseFlags, UsageError } from "../../cli/index";
import { LogShipper, logSinkSender } from "../../sidecar/src/index";
import { type ApiServer, startApiServer } from "./api/server";
import { parseSize } from "./cli/units";
import { Engine } from "./engine/engine";
import { type Clock, type Logger, stderrLogger, systemClock } from "./engine/parts";
import { realParts } from "./engine/wiring";
import { execWithTimeout, HealthMonitor } from "./health/index";
import { ContainerLogForwarder } from "./logship/forwarder";
import { ensureBridge } from "./network/index";
import { PortPublisher } from "./ports/index";
import { Registrar } from "./registration/registrar";
import { grpcSync } from "./registration/wire";

export interface DaemonOptions {
  /** Default /var/lib/weft. */
  stateDir: string;
  /** Default /run/weft/weft.sock. */
  socket: string;
  /** Default weft0. */
  bridge: string;
  /** Default 10.88.0.0/16. */
  subnet: string;
  /** Default unix:///run/weft/cp.sock. */
  controlPlane: string;
  /** Default the hostname. */
  node: string;
  /** Default weft. */
  cgroupParent: string;
  /** An app's log is truncated by its monitor past this size (--log-max-size); default 10 MiB. */
  logMaxSizeBytes?: number;
  /** The control plane's --token (WEFT_TOKEN), for registration and the sidecars' certificates. */
  token?: string;
  /** Default packageRoot()/dist. */
  distDir?: string;
  clock?: Clock;
  logger?: Logger;
}

export interface Daemon {
  engine: Engine;
  api: ApiServer;
  registrar: Registrar;
  /** Closes the socket and the control plane connection; containers keep running. */
  close(): Promise<void>;
}

export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? stderrLogger;
  mkdirSync(o.stateDir, { recursive: true });
  // Traversable but not listable, so uid 1337 reaches STATE/sidecar and nothing else.
  chmodSync(o.stateDir, 0o711);
  const bridge = await ensureBridge({ bridge: o.bridge, subnet: o.subnet });
  const wire = grpcSync(o.controlPlane, o.token);
  const registrar = new Registrar({ node: o.node, sync: wire.sync, logger, clock });
  const runcRoot = join(o.stateDir, "runc");
  // The monitor reports through the engine, which exists only below: the callback looks it up then.
  let engineRef: Engine | undefined;
  const health = new HealthMonitor({
    exec: (id, args, timeoutMs) =>
      execWithTimeout(["runc", "--root", runcRoot, "exec", id, ...args], timeoutMs),
    clock,
    logger,
    onChange: (id, h) => engineRef?.healthChanged(id, h),
  });
  const ports = new PortPublisher({ logger });
  const engine = new Engine(
    realParts({
      stateDir: o.stateDir,
      bridge,
      cgroupParent: o.cgroupParent,
      controlPlane: o.controlPlane,
      token: o.token,
      distDir: o.distDir ?? join(packageRoot(), "dist"),
      registrar,
      clock,
      logger,
      logMaxSizeBytes: o.logMaxSizeBytes ?? 10 * 1024 * 1024,
      health,
      ports,
    }),
  );
  engineRef = engine;
  await engine.load();
  registrar.start();
  // Every container's stdout and stderr go to the control plane's log sink too (bounded: dropped and
  // counted when the sink is slow or away, never holding a container up).
  const sink = logSinkSender(o.controlPlane);
  let sinkFailures = 0;
  const shipper = new LogShipper({
    send: sink.send,
    onError: (err) => {
      if (sinkFailures++ % 100 === 0)
        logger.warn(`log sink: ${err.message}; container logs are buffered, then dropped`);
    },
  });
  const forwarder = new ContainerLogForwarder({
    engine,
    shipper,
    node: o.node,
    onError: (m) => logger.warn(m),
  });
  await forwarder.start();
  const stopLogs = async () => {
    forwarder.close();
    await shipper.close();
    sink.close();
  };
  let api: ApiServer;
  try {
    api = await startApiServer(engine, o.socket, logger);
  } catch (err) {
    await stopLogs();
    engine.close();
    health.close();
    await ports.close();
    await registrar.close();
    wire.close();
    throw err;
  }
  return {
    engine,
    api,
    registrar,
    close: async () => {
      // Apps keep running under their monitors; published ports and health checks pause until the
      // next daemon adopts them.
      await stopLogs();
      engine.close();
      health.close();
      await api.close();
      await ports.close();
      await registrar.close();
      wire.close();
    },
  };
}

const USAGE = `Usage: weft daemon [OPTIONS]

Runs the container engine and serves its API on a unix socket.

Options:
  --state-dir DIR        where containers, images and runc state live (default /var/lib/weft)
  --socket PATH          the API socket (default /run/weft/weft.sock)
  --bridge NAME          the workloads' bridge (default weft0)
  --subnet CIDR          the workloads' subnet (default 10.88.0.0/16)
  --control-plane ADDR   gRPC address of the control plane (default unix:///run/weft/cp.sock)
  --node NAME            this node's name in the registry (default the hostname)
  --cgroup-parent NAME   cgroup under which containers and sidecars are placed (default weft)
  --log-max-size SIZE    truncate a container's log when it grows past SIZE (default 10m)

Environment:
  WEFT_TOKEN             the control plane's --token: sent with registrations, and given to each
                         sidecar for its certificate requests (in its environment, never its argv)`;

export const daemonCommand: Command = {
  name: "daemon",
  summary: "Run the container engine (API on /run/weft/weft.sock)",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      "state-dir": { type: "string", default: "/var/lib/weft" },
      socket: { type: "string", default: "/run/weft/weft.sock" },
      bridge: { type: "string", default: "weft0" },
      subnet: { type: "string", default: "10.88.0.0/16" },
      "control-plane": { type: "string", default: "unix:///run/weft/cp.sock" },
      node: { type: "string" },
      "cgroup-parent": { type: "string", default: "weft" },
      "log-max-size": { type: "string", default: "10m" },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const cgroupParent = values["cgroup-parent"]!;
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(cgroupParent)) {
      throw new UsageError(
        `--cgroup-parent must be a relative cgroup path like "weft", got "${cgroupParent}"`,
      );
    }
    const daemon = await startDaemon({
      stateDir: values["state-dir"]!,
      socket: values.socket!,
      bridge: values.bridge!,
      subnet: values.subnet!,
      controlPlane: values["control-plane"]!,
      node: values.node ?? hostname(),
      cgroupParent,
      logMaxSizeBytes: parseSize("--log-max-size", values["log-max-size"]!),
      token: process.env.WEFT_TOKEN || undefined,
    });
    process.stdout.write(
      `weft daemon ready socket=${values.socket} bridge=${values.bridge} subnet=${values.subnet}\n`,
    );
    return new Promise<number>((resolve) => {
      const shutdown = (signal: string) => {
        stderrLogger.info(`${signal}: closing the API socket; containers keep running`);
        daemon.close().then(
          () => resolve(0),
          () => resolve(1),
        );
      };
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      process.once("SIGINT", () => shutdown("SIGINT"));
    });
  },
};
