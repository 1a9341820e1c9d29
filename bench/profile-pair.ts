// What bench/allocation.ts and bench/cpu-profile.ts share: one sidecar pair in front of
// bench/sidecar-apps.ts at a fixed 1000 req/s (h2load --h1 --rps, 16 connections), every request
// traced and access-logged unless telemetry is off, warmed up, then both sidecars profiled through
// their admin port for the same window while the load goes on. Everything started is killed and the
// scratch folder removed when the process exits.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeControlPlane } from "../sidecar/src/testing/wire-fake-control-plane";
import { bundleSeamSidecar } from "./mesh-bundle";
import { h2load } from "./mesh-load";
import { killStarted } from "./mesh-procs";
import { adminProfile, pushTelemetry, sleep, startChild, startSeamPair } from "./seam-pair";

export const PROFILE_RATE = 1000;
export const PROFILE_WARMUP_S = 20;

export interface PairProfiles<T> {
  client: T;
  server: T;
  /** Requests in the profiled window (h2load holds the rate, so the window saw its share). */
  requests: number;
}

/** `label` names the bench in progress lines; `saveDir` keeps both profiles as files with `ext`. */
export async function profilePair<T>(o: {
  label: string;
  kind: "heap" | "cpu";
  seconds: number;
  telemetry: boolean;
  saveDir?: string;
  ext: string;
}): Promise<PairProfiles<T>> {
  const dir = mkdtempSync(join(tmpdir(), `wt-bench-${o.label}-`));
  process.on("exit", () => {
    killStarted();
    rmSync(dir, { recursive: true, force: true });
  });
  const cp = await startFakeControlPlane();
  const VIP = "10.96.9.8";
  cp.pushServices(
    [{ name: "app", virtual_ip: VIP, ports: [{ name: "p", port: 80, protocol: "http" }] }],
    "1",
  );
  pushTelemetry(cp, { default: { tracing: o.telemetry, accessLog: o.telemetry } }, 1);
  const apps = await startChild(["--import", "tsx", join(import.meta.dirname, "sidecar-apps.ts")]);
  const appPort = (JSON.parse(apps.line) as { h1: number }).h1;
  const bundle = await bundleSeamSidecar(dir);
  const pair = await startSeamPair({ cp, name: o.label, appPort, vip: VIP, stderr: "ignore", bundle });
  await sleep(500); // the endpoints just pushed land
  const load = (secs: number) =>
    h2load({ port: pair.port, connections: 16, rate: PROFILE_RATE, seconds: secs });
  console.error(`${o.label}: warming up for ${PROFILE_WARMUP_S} s at ${PROFILE_RATE} req/s`);
  await load(PROFILE_WARMUP_S);
  const run = load(o.seconds + 2);
  await sleep(1000);
  console.error(`${o.label}: sampling both sidecars for ${o.seconds} s`);
  const [client, server] = await Promise.all([
    adminProfile<T>(pair.clientPorts.admin as number, o.kind, o.seconds),
    adminProfile<T>(pair.serverPorts.admin as number, o.kind, o.seconds),
  ]);
  const { done } = await run;
  if (o.saveDir) {
    writeFileSync(join(o.saveDir, `client-sidecar.${o.ext}`), JSON.stringify(client));
    writeFileSync(join(o.saveDir, `server-sidecar.${o.ext}`), JSON.stringify(server));
  }
  pair.stop();
  return { client, server, requests: (done * o.seconds) / (o.seconds + 2) };
}
