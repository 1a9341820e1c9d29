// How a client sidecar spreads a light load over two equal endpoints (issue #7's least-request
// balancer, P2C over peak-EWMA latency as Linkerd's): two server sidecars, each in front of its own
// app answering at once, both endpoints of one service, speaking mutual TLS with the client sidecar
// (certificates from a real control plane's CA) unless --plain; RATE requests per second (default
// 5, the example's load generator) from one keep-alive client for SECONDS (default 60). Prints how
// many requests each endpoint got in each 10 s, in all, and the smaller one's share; and the
// requests' latency through the pair.
// What it showed: while a new connection's setup (the TLS handshake with the peer sidecar, after the
// pooled connection idled out) counted in the latency sample, the endpoint not in use looked slow
// each time it was tried again, and got 2-9% of the requests (three runs of 40 s); without it, 28-34%.
// P2C over peak EWMA stays sticky at such rates (Linkerd's too: linkerd/linkerd2#14086).
// At --rate=0.25 (one request per 4 s): p50 13.4-17.5 ms over mutual TLS while pooled connections to
// a peer sidecar went after 4 s idle, as those to an app do (a new handshake each call); 7.6-8.9 ms
// since they stay 30 s. In plain text 11.3 ms: on this VM every process woken after idling costs some
// (a request straight to a node:http server every 4 s: p50 3.1 ms, against 0.2 ms under load).
// Usage: node --import tsx bench/lb-spread.ts [SECONDS] [--rate=N] [--plain]

import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlPlane } from "../control-plane/src/server";
import { TLS_MODE_LABEL, TLS_MODE_MUTUAL } from "../proto/mtls-mode";
import { startFakeControlPlane } from "../sidecar/src/testing/wire-fake-control-plane";
import { bundleSeamSidecar } from "./mesh-bundle";
import { killStarted } from "./mesh-procs";
import { type SeamPair, sleep, startSeamPair } from "./seam-pair";

const args = process.argv.slice(2);
const seconds = Number(args.find((a) => /^\d+$/.test(a)) ?? 60);
const rate = Number(args.find((a) => a.startsWith("--rate="))?.slice(7) ?? 5);
const mtls = !args.includes("--plain");
const dir = mkdtempSync(join(tmpdir(), "wt-bench-lb-"));
const hits = [0, 0];
const apps = await Promise.all(
  [0, 1].map(
    (i) =>
      new Promise<http.Server>((resolve) => {
        const s = http.createServer((_req, res) => {
          hits[i]!++;
          res.end("ok");
        });
        s.listen(0, "127.0.0.1", () => resolve(s));
      }),
  ),
);
const ca = mtls
  ? await startControlPlane({
      dataDir: join(dir, "cp"),
      grpcPort: 0,
      httpPort: 0,
      grpcSocket: "",
      log: () => {},
    })
  : undefined;
const cp = await startFakeControlPlane();
process.on("exit", () => {
  killStarted();
  rmSync(dir, { recursive: true, force: true });
});
const VIP = "10.96.9.8";
cp.pushServices([{ name: "app", virtual_ip: VIP, ports: [{ name: "p", port: 80, protocol: "http" }] }], "1");
const bundle = await bundleSeamSidecar(dir);
const pairs: SeamPair[] = [];
for (const [i, app] of apps.entries()) {
  pairs.push(
    await startSeamPair({
      cp,
      name: `lb${i}`,
      appPort: (app.address() as AddressInfo).port,
      vip: VIP,
      bundle,
      stderr: "ignore",
      telemetry: false,
      ...(ca ? { certificateAuthority: ca.grpcAddress } : {}),
    }),
  );
}
cp.pushEndpoints(
  {
    app: pairs.map((pair, i) => ({
      id: `lb${i}`,
      service: "app",
      address: "127.0.0.1",
      ports: [{ name: "p", port: pair.serverPorts.inbound as number }],
      healthy: true,
      labels: (mtls ? { [TLS_MODE_LABEL]: TLS_MODE_MUTUAL } : {}) as Record<string, string>,
    })),
  },
  "2",
);
await sleep(500);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = () =>
  new Promise<void>((resolve, reject) =>
    http
      .get({ host: "127.0.0.1", port: pairs[0]!.port, path: "/", agent, headers: { host: "app" } }, (res) => {
        res.resume();
        res.on("end", resolve);
      })
      .on("error", reject),
  );
console.log(`${rate} req/s for ${seconds} s over two equal endpoints, ${mtls ? "mutual TLS" : "plain text"}`);
let last = [0, 0];
const started = Date.now();
const latencies: number[] = [];
for (let n = 0; Date.now() - started < seconds * 1000; n++) {
  const t0 = performance.now();
  await get();
  latencies.push(performance.now() - t0);
  if ((n + 1) % Math.max(1, Math.round(rate * 10)) === 0) {
    console.log(`  10 s: endpoint A ${hits[0]! - last[0]!}, endpoint B ${hits[1]! - last[1]!}`);
    last = [...hits];
  }
  await sleep(Math.max(0, started + ((n + 1) * 1000) / rate - Date.now()));
}
const all = hits[0]! + hits[1]!;
latencies.sort((a, b) => a - b);
const at = (q: number) =>
  (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(2);
console.log(`request latency through the pair, ms: p50 ${at(0.5)} p90 ${at(0.9)} max ${at(1)}`);
console.log(
  `in all: endpoint A ${hits[0]}, endpoint B ${hits[1]}; the smaller share ${((100 * Math.min(hits[0]!, hits[1]!)) / all).toFixed(0)}%`,
);
agent.destroy();
for (const p of pairs) p.stop();
for (const a of apps) a.close();
await ca?.close();
await cp.close();
process.exit(0);
