// What bench/sidecar.ts and bench/tracing-cost.ts share: child processes that print one JSON line
// when ready, their CPU time, and a sidecar pair of seam sidecars (sidecar/src/testing/seam-sidecar.ts:
// a fixed original destination in place of iptables) in front of one app port on 127.0.0.1.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { TLS_MODE_LABEL, TLS_MODE_MUTUAL } from "../proto/mtls-mode";
import { SIDECAR_NODE_FLAGS } from "../sidecar/src/node-flags";
import type { FakeControlPlane } from "../sidecar/src/testing/wire-fake-control-plane";

const children: ChildProcess[] = [];
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawns node with argv and resolves with its first JSON line on stdout; killed when this process exits. */
export function startChild(
  argv: string[],
  stderr: "inherit" | "ignore" = "inherit",
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", stderr], env });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    let ready = false;
    child.stdout?.on("data", (d) => {
      if (ready) return; // what it prints later (--trace-gc) is not kept
      out += d;
      // The first JSON line: node flags such as --trace-gc (WEFT_BENCH_NODE_FLAGS) print before it.
      const line = out.split("\n").find((l, i, all) => l.startsWith("{") && i < all.length - 1);
      if (line === undefined) return;
      ready = true;
      resolve({ child, line });
    });
    child.once("exit", (code) => reject(new Error(`${argv.join(" ")} exited with ${code}`)));
  });
}

/**
 * The node flags a bundled sidecar runs with: production's (SIDECAR_NODE_FLAGS), or
 * WEFT_BENCH_NODE_FLAGS ("" for node's defaults) to compare others.
 */
export function nodeFlags(): string[] {
  const override = process.env.WEFT_BENCH_NODE_FLAGS;
  return override === undefined ? [...SIDECAR_NODE_FLAGS] : override.split(" ").filter(Boolean);
}

/**
 * The environment the daemon gives a sidecar (runtime/src/inject/injector.ts). Not the bench's own:
 * NODE_EXTRA_CA_CERTS alone, set on some machines, adds about 45 ms to every node start.
 */
export const SIDECAR_ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent" };

/** utime + stime of a process, in ms (clock ticks are 10 ms on Linux). */
export function cpuMsOf(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The status of a sidecar's /healthz/ready, 0 when it does not answer. */
export function readyStatus(port: number): Promise<number> {
  return new Promise<number>((resolve) =>
    http
      .get({ host: "127.0.0.1", port, path: "/healthz/ready", agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", () => resolve(0)),
  );
}

export interface SeamPair {
  /** The client sidecar's outbound port: where the "app" connects to reach service "app". */
  port: number;
  server: ChildProcess;
  client: ChildProcess;
  /** The ports each sidecar listens on (the JSON line it printed when ready). */
  serverPorts: Record<string, number>;
  clientPorts: Record<string, number>;
  /** CPU milliseconds both sidecars have used so far. */
  cpuMs(): number;
  /** The two speak mutual TLS (the server's endpoint is labelled for it). */
  mtls: boolean;
  stop(): void;
}

/** A server-side and a client-side sidecar in front of appPort, for service "app" (or `service`) at vip:80. */
export async function startSeamPair(o: {
  cp: FakeControlPlane;
  name: string;
  appPort: number;
  vip: string;
  /** false: no tracing or access logs. Default: as in production. */
  telemetry?: boolean;
  /** "tcp": the app's port is declared opaque TCP, so the server sidecar pipes it (the client's
   * side follows the service port's protocol, which the caller pushes). Default: detected. */
  protocol?: "tcp";
  stderr?: "inherit" | "ignore";
  /** A bundle of the seam sidecar to run with plain node. Default: its source, through tsx. */
  bundle?: string;
  /** The service's name; pairs side by side need one each (the stand-in pushes endpoints per service). */
  service?: string;
  /** Mutual TLS between the two: the gRPC address of a control plane whose CA signs their
   * certificates. Default: plain text. */
  certificateAuthority?: string;
}): Promise<SeamPair> {
  const service = o.service ?? "app";
  const seam = join(import.meta.dirname, "..", "sidecar", "src", "testing", "seam-sidecar.ts");
  const entry = o.bundle
    ? [...(process.env.WEFT_BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean), o.bundle]
    : ["--import", "tsx", seam];
  const sidecar = (workload: string, address: string, dst: object, identity: string) =>
    startChild(
      [
        ...entry,
        JSON.stringify({
          controlPlane: o.cp.target,
          workload,
          address,
          dst,
          telemetry: o.telemetry,
          ...(o.protocol ? { ports: [[o.appPort, o.protocol]] } : {}),
          ...(o.certificateAuthority
            ? { mtls: { certificateAuthority: o.certificateAuthority, service: identity } }
            : {}),
        }),
      ],
      o.stderr,
    );
  const server = await sidecar(
    `${o.name}-server`,
    "10.88.9.3",
    { address: "10.88.9.3", port: o.appPort },
    service,
  );
  const inbound = (JSON.parse(server.line) as { inbound: number }).inbound;
  const mtls = o.certificateAuthority !== undefined;
  o.cp.pushEndpoints({ [service]: [serverEndpoint(o.name, service, inbound, mtls)] }, o.name);
  const client = await sidecar(
    `${o.name}-client`,
    "10.88.9.2",
    { address: o.vip, port: 80 },
    `${o.name}-client`,
  );
  const ports = JSON.parse(client.line) as Record<string, number> & { outbound: number; health: number };
  while ((await readyStatus(ports.health)) !== 200) await sleep(10);
  await sleep(300); // endpoints pushed after the services: let them land
  return {
    port: ports.outbound,
    server: server.child,
    client: client.child,
    serverPorts: JSON.parse(server.line) as Record<string, number>,
    clientPorts: ports,
    mtls,
    cpuMs: () => cpuMsOf(server.child.pid) + cpuMsOf(client.child.pid),
    stop() {
      server.child.kill("SIGKILL");
      client.child.kill("SIGKILL");
    },
  };
}

/** A pair's server sidecar as the service's one endpoint: its inbound listener on loopback. */
function serverEndpoint(id: string, service: string, inbound: number, mtls: boolean) {
  return {
    id,
    service,
    address: "127.0.0.1",
    ports: [{ name: "p", port: inbound }],
    healthy: true,
    labels: (mtls ? { [TLS_MODE_LABEL]: TLS_MODE_MUTUAL } : {}) as Record<string, string>,
  };
}

/** Pairs side by side: each startSeamPair pushed only its own service's endpoints, and each push
 * replaced the last one's list, so this pushes every pair's server sidecar at once. */
export function pushPairEndpoints(
  cp: FakeControlPlane,
  pairs: Array<{ id: string; service: string; pair: SeamPair }>,
  version: string,
): void {
  cp.pushEndpoints(
    Object.fromEntries(
      pairs.map(({ id, service, pair }) => [
        service,
        [serverEndpoint(id, service, pair.serverPorts.inbound as number, pair.mtls)],
      ]),
    ),
    version,
  );
}

/** What a pushed Telemetry config turns on: tracing at 100%, access logs (all lines) or both. */
export interface TelemetryOn {
  tracing: boolean;
  accessLog: boolean;
}

/**
 * Pushes Telemetry configs, by resource name ("default", or a workload's service), as the control
 * plane sends them: the log sink named and both sampling ratios given, since on the wire a left-out
 * sink is no sink (the sidecar then ships no access-log line) and a left-out ratio is 0.
 */
export function pushTelemetry(
  cp: FakeControlPlane,
  configs: Record<string, TelemetryOn>,
  version: number,
): void {
  cp.pushRaw({
    type_url: "weft.v1.Telemetry",
    version_info: `t${version}`,
    resources: Object.entries(configs).map(([name, on]) => ({
      name,
      telemetry: {
        name,
        version: String(version),
        spec: {
          tracing: { enabled: on.tracing, sampling_ratio: 1 },
          logging: { level: "info", access_log: on.accessLog, sampling_ratio: 1, sinks: ["control-plane"] },
        },
      },
    })),
  });
}

/** A profile from a sidecar's admin port (POST /heap_profile or /cpu_profile for `seconds`). */
export function adminProfile<T>(port: number, kind: "heap" | "cpu", seconds: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method: "POST", path: `/${kind}_profile?seconds=${seconds}` },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () =>
          res.statusCode === 200
            ? resolve(JSON.parse(body) as T)
            : reject(new Error(`${kind}_profile on port ${port}: ${res.statusCode} ${body}`)),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}
