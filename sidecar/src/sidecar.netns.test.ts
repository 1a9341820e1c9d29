// The real kernel: two network namespaces joined by a veth pair, the interception rules applied in
// A with iptables-restore, the bundled sidecar running in A as uid 1337, and curl in A reaching
// B's HTTP server through a service VIP. Needs root, iproute2, iptables and curl.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import test from "ava";
import { redirectRules } from "./intercept/rules";
import { bundleSidecar } from "./testing/bundle";
import { startFakeControlPlane } from "./testing/wire-fake-control-plane";

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** Runs argv inside a netns (as root), like the runtime does: nsenter, no new mount namespace. */
function inNetns(ns: string, argv: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const child = run("nsenter", [`--net=/var/run/netns/${ns}`, "--", ...argv], { timeout: 15_000 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  return child;
}

/** A long-running node process in a netns, killed in teardown. */
function nodeIn(ns: string, script: string, extra: string[] = []): ChildProcess {
  return spawn("nsenter", [`--net=/var/run/netns/${ns}`, ...extra, "--", process.execPath, "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function until<T>(what: string, attempt: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await attempt();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  throw new Error(`${what} did not happen in ${timeoutMs} ms: ${(last as Error)?.message}`);
}

const httpServer = (name: string, port: number) => `
  require("node:http").createServer((req, res) => {
    res.setHeader("x-seen-via", String(req.headers.via ?? ""));
    res.end("hello from ${name}\\n");
  }).listen(${port}, "0.0.0.0");`;

const h2Server = (name: string, port: number) => `
  require("node:http2").createServer((req, res) => res.end("h2 hello from ${name}\\n")).listen(${port}, "0.0.0.0");`;

(isRoot ? test : test.skip)(
  "curl in netns A reaches B through the sidecar: VIP over HTTP, passthrough, inbound, DNS",
  async (t) => {
    const hex = randomBytes(3).toString("hex");
    const [nsA, nsB, vethA, vethB] = [`wt${hex}a`, `wt${hex}b`, `wt${hex}va`, `wt${hex}vb`];
    const octet = 16 + (randomBytes(1)[0]! % 200);
    const [ipA, ipB, vip, vip2] = [
      `10.231.${octet}.2`,
      `10.231.${octet}.3`,
      `10.97.${octet}.10`,
      `10.97.${octet}.11`,
    ];
    const children: ChildProcess[] = [];
    const dir = mkdtempSync(join(tmpdir(), "wt-sidecar-"));
    chmodSync(dir, 0o755);
    let cp: Awaited<ReturnType<typeof startFakeControlPlane>> | undefined;
    t.teardown(async () => {
      for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
      await cp?.close();
      for (const ns of [nsA, nsB]) await run("ip", ["netns", "del", ns]).catch(() => {});
      await run("ip", ["link", "del", vethA]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    });

    // Network: A and B on one /24, A with a default route so a connect() to a VIP gets to nat OUTPUT.
    await run("ip", ["netns", "add", nsA]);
    await run("ip", ["netns", "add", nsB]);
    await run("ip", [
      "link",
      "add",
      vethA,
      "netns",
      nsA,
      "type",
      "veth",
      "peer",
      "name",
      vethB,
      "netns",
      nsB,
    ]);
    for (const [ns, dev, ip] of [
      [nsA, vethA, ipA],
      [nsB, vethB, ipB],
    ] as const) {
      await inNetns(ns, ["ip", "link", "set", "lo", "up"]);
      await inNetns(ns, ["ip", "addr", "add", `${ip}/24`, "dev", dev]);
      await inNetns(ns, ["ip", "link", "set", dev, "up"]);
    }
    await inNetns(nsA, ["ip", "route", "add", "default", "via", ipB, "dev", vethA]);
    await inNetns(nsA, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);

    // B serves HTTP on 8080 and h2c on 8081; A's own app serves HTTP on 9090 (for the inbound path).
    children.push(nodeIn(nsB, httpServer("B", 8080)));
    children.push(nodeIn(nsB, h2Server("B", 8081)));
    children.push(nodeIn(nsA, httpServer("A's app", 9090)));

    // Control plane on a unix socket that uid 1337 can reach from inside the netns.
    const cpDir = join(dir, "cp");
    mkdirSync(cpDir, { mode: 0o777 });
    chmodSync(cpDir, 0o777);
    const socket = join(cpDir, "cp.sock");
    cp = await startFakeControlPlane(`unix://${socket}`);
    chmodSync(socket, 0o666);
    cp.pushServices(
      [
        { name: "web", virtual_ip: vip, ports: [{ name: "http", port: 80, protocol: "http" }] },
        // No protocol: "auto", the sidecar detects h2c from the connection preface.
        { name: "fast", virtual_ip: vip2, ports: [{ name: "h2", port: 81 }] },
      ],
      "1",
    );
    cp.pushEndpoints(
      {
        web: [
          {
            id: "b",
            service: "web",
            address: ipB,
            ports: [{ name: "http", port: 8080, protocol: "http" }],
            healthy: true,
          },
        ],
        fast: [
          { id: "b2", service: "fast", address: ipB, ports: [{ name: "h2", port: 8081 }], healthy: true },
        ],
      },
      "1",
    );

    const bundleDir = join(dir, "bundle");
    mkdirSync(bundleDir);
    const bundle = await bundleSidecar(bundleDir);
    await inNetns(nsA, ["iptables-restore"], redirectRules());

    const sidecar = spawn(
      "nsenter",
      [
        `--net=/var/run/netns/${nsA}`,
        "-S",
        "1337",
        "-G",
        "1337",
        "--",
        process.execPath,
        bundle,
        "--control-plane",
        `unix://${socket}`,
        "--workload",
        "wtest",
        "--address",
        ipA,
        "--port",
        "9090/http",
        // Detection, not its timeout, is under test: on a loaded machine h2load's preface came after
        // the default 100 ms, its connections went through as opaque TCP and were not counted.
        "--detect-timeout-ms",
        "2000",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(sidecar);
    let output = "";
    sidecar.stdout?.on("data", (d) => (output += d));
    sidecar.stderr?.on("data", (d) => (output += d));
    t.teardown(() => t.log(output));

    await until("sidecar ready on 15021", () =>
      inNetns(nsA, ["curl", "-sf", `http://${ipA}:15021/healthz/ready`]),
    );

    // 1. HTTP to the VIP from A: redirected to 15001, balanced to B:8080, Via on request and response.
    const viaVip = await until("HTTP to the VIP", () =>
      inNetns(nsA, ["curl", "-sS", "-i", "--max-time", "5", `http://${vip}/`]),
    );
    t.regex(viaVip.stdout, /hello from B/);
    t.regex(viaVip.stdout, /^via: 1\.1 wtest \(weft-outbound\)/im);
    t.regex(viaVip.stdout, /^x-seen-via: 1\.1 wtest \(weft-outbound\)/im);

    // 1b. busybox wget to the same VIP.
    const wget = await inNetns(nsA, ["busybox", "wget", "-q", "-O", "-", `http://${vip}/`]);
    t.regex(wget.stdout, /hello from B/);

    // 1c. h2load (h2c, prior knowledge) to an "auto" port: detected as HTTP/2 and proxied per stream.
    const h2 = await inNetns(nsA, ["h2load", "-n", "200", "-c", "2", "-m", "10", `http://${vip2}:81/`]);
    t.regex(h2.stdout, /200 succeeded, 0 failed/);
    const h2curl = await inNetns(nsA, ["curl", "-sS", "-i", "--http2-prior-knowledge", `http://${vip2}:81/`]);
    t.regex(h2curl.stdout, /^HTTP\/2 200/m);
    t.regex(h2curl.stdout, /^via: 1\.1 wtest \(weft-outbound\)/im);
    t.regex(h2curl.stdout, /h2 hello from B/);

    // 2. TCP passthrough: B's own address is no VIP; it still goes through the sidecar, untouched.
    const direct = await inNetns(nsA, ["curl", "-sS", "-i", "--max-time", "5", `http://${ipB}:8080/`]);
    t.regex(direct.stdout, /hello from B/);
    t.notRegex(direct.stdout, /weft-outbound/);

    // 3. Inbound: B calls A's app on a declared http port; it arrives through 15006 with an inbound Via.
    const inbound = await inNetns(nsB, ["curl", "-sS", "-i", "--max-time", "5", `http://${ipA}:9090/`]);
    t.regex(inbound.stdout, /hello from A's app/);
    t.regex(inbound.stdout, /^via: 1\.1 wtest \(weft-inbound\)/im);

    // 4. DNS: the app's port-53 query (to any server) is answered by the sidecar with the VIP.
    const dns = await inNetns(nsA, ["busybox", "nslookup", "-type=a", "web.weft", "192.0.2.53"]);
    t.regex(dns.stdout, new RegExp(vip.replace(/\./g, "\\.")));
    // Consul's name for it, for apps written against Consul DNS.
    const consul = await inNetns(nsA, ["busybox", "nslookup", "-type=a", "web.service.consul", "192.0.2.53"]);
    t.regex(consul.stdout, new RegExp(vip.replace(/\./g, "\\.")), consul.stdout + consul.stderr);

    const metrics = await inNetns(nsA, ["curl", "-sS", `http://${ipA}:15090/metrics`]);
    t.regex(
      metrics.stdout,
      /weft_requests_total\{direction="outbound",service="web",code="200",route="default"\} 2/,
    );
    t.regex(
      metrics.stdout,
      /weft_requests_total\{direction="outbound",service="fast",code="200",route="default"\} 201/,
    );
    t.regex(metrics.stdout, /weft_tcp_connections_total\{direction="outbound"\} [6-9]/);
    t.regex(metrics.stdout, /weft_tcp_connections_total\{direction="inbound"\} 1/);

    // SIGTERM drains and exits 0.
    const exited = new Promise<number | null>((resolve) => sidecar.once("exit", (code) => resolve(code)));
    sidecar.kill("SIGTERM");
    t.is(await exited, 0);
  },
);
