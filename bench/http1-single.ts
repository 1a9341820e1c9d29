// One proxy on its own (no sidecar around it): h2load at 50 connections against an upstream
// answering 1 KiB, direct, through a one-thread HAProxy, through a plain node:http proxy (the
// yardstick issue #7 names) and through the sidecar's HTTP/1.1 proxy (sidecar/src/http1), each in a
// process of its own fed by a net.Server with a fixed route. Prints rps and the ratios.
//   node --import tsx bench/http1-single.ts [seconds=10] [connections=50]
//   node --import tsx bench/http1-single.ts serve <node|lean> <upstreamPort>   (a child)
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Http1Proxy } from "../sidecar/src/http1";
import { fixedPlan } from "../sidecar/src/listeners/fixed-plan";
import { Metrics } from "../sidecar/src/telemetry/metrics";

const here = fileURLToPath(import.meta.url);
const root = fileURLToPath(new URL("../", import.meta.url));

async function serve(kind: string, upstreamPort: number): Promise<void> {
  // Exit cleanly on a signal so `node --cpu-prof` writes its profile.
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(0));
  const ready = (server: { address(): unknown }) =>
    process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  if (kind === "node") {
    // The yardstick the issue names: a plain node:http proxy with a keep-alive agent, no checks.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
    const server = http.createServer((req, res) => {
      const up = http.request(
        {
          host: "127.0.0.1",
          port: upstreamPort,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on("error", () => res.destroy());
      req.pipe(up);
    });
    server.listen(0, "127.0.0.1", () => ready(server));
    return;
  }
  const proxy = new Http1Proxy({ direction: "outbound", workload: "bench", metrics: new Metrics() });
  const plan = fixedPlan("127.0.0.1", upstreamPort);
  const route = { service: "bench", plan: () => plan };
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (s) => proxy.handle(s, route));
  server.listen(0, "127.0.0.1", () => ready(server));
}

async function portOf(child: ChildProcess): Promise<number> {
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  return Number(line.toString().trim());
}

function h2load(port: number, seconds: number, connections: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      "h2load",
      ["--h1", "-c", String(connections), "-t", "1", "-D", String(seconds), `http://127.0.0.1:${port}/`],
      { maxBuffer: 1 << 20 },
      (err, stdout) => {
        if (err) return reject(err);
        const m = /finished in [^,]+, ([\d.]+) req\/s/.exec(stdout);
        const failed = /requests: .* (\d+) failed/.exec(stdout);
        if (!m) return reject(new Error(`no rate in h2load output:\n${stdout}`));
        if (failed && Number(failed[1]) > 0) process.stderr.write(`warning: ${failed[1]} failed requests\n`);
        resolve(Number(m[1]));
      },
    );
  });
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const connections = Number(process.argv[3] ?? 50);
  const upstreamPort = 20000 + Math.floor(Math.random() * 20000);
  const children: ChildProcess[] = [];
  const kill = () => {
    for (const c of children) c.kill();
  };
  process.on("exit", kill);
  try {
    const upstream = spawn(
      process.execPath,
      [`${root}bench/upstream.mjs`, String(upstreamPort), "127.0.0.1"],
      {
        stdio: "ignore",
      },
    );
    children.push(upstream);
    await new Promise((r) => setTimeout(r, 300));
    const child = (kind: string) => {
      const c = spawn(process.execPath, ["--import", "tsx", here, "serve", kind, String(upstreamPort)], {
        stdio: ["ignore", "pipe", "inherit"],
        cwd: root,
      });
      children.push(c);
      return portOf(c);
    };
    const nodePort = await child("node");
    const leanPort = await child("lean");
    // HAProxy configured the same way (one thread, keep-alive both sides), for the yardstick.
    const haproxyPort = upstreamPort + 1;
    const cfg = join(tmpdir(), `weft-bench-haproxy-${process.pid}.cfg`);
    writeFileSync(
      cfg,
      `global\n  nbthread 1\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n  option http-keep-alive\nfrontend f\n  bind 127.0.0.1:${haproxyPort}\n  default_backend b\nbackend b\n  http-reuse always\n  server s1 127.0.0.1:${upstreamPort}\n`,
    );
    process.on("exit", () => rmSync(cfg, { force: true }));
    children.push(spawn("haproxy", ["-f", cfg, "-db"], { stdio: "ignore" }));
    await new Promise((r) => setTimeout(r, 300));
    const rate: Record<string, number> = {};
    for (const [name, port] of [
      ["direct", upstreamPort],
      ["haproxy", haproxyPort],
      ["node:http", nodePort],
      ["lean", leanPort],
    ] as Array<[string, number]>) {
      await h2load(port, 1, connections); // warm up (JIT, pools)
      rate[name] = await h2load(port, seconds, connections);
      process.stdout.write(`${name.padEnd(10)} ${rate[name]?.toFixed(0)} rps\n`);
    }
    const ratio = (a: string, b: string) => `${a}/${b} ${((rate[a] ?? 0) / (rate[b] ?? 1)).toFixed(2)}`;
    process.stdout.write(
      `ratios: ${ratio("node:http", "direct")}, ${ratio("lean", "direct")}, ${ratio("lean", "node:http")}, ${ratio("node:http", "haproxy")}, ${ratio("lean", "haproxy")}\n`,
    );
  } finally {
    kill();
  }
}

if (process.argv[2] === "serve") void serve(process.argv[3] ?? "lean", Number(process.argv[4]));
else
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
