// The real `weft` CLI process: run the control plane, register, kill -9, restart on the same data
// dir, and read the registry back with `weft services` and `weft endpoints`.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import test from "ava";
import { packageRoot } from "../../cli/index";
import { syncEndpoints } from "./grpc-testing";

const run = promisify(execFile);
const root = packageRoot();
const WEFT = ["--import", "tsx", join(root, "cli", "main.ts")];

interface Ready {
  child: ChildProcess;
  grpc: string;
  http: string;
  socket: string;
  /** Consul DNS's address, or "off". */
  dns: string;
}

function startCli(args: string[]): Promise<Ready> {
  const child = spawn(process.execPath, [...WEFT, "control-plane", ...args], { cwd: root });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`no ready line in 20 s; stderr: ${err}`)), 20_000);
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^control plane ready grpc=(\S+) socket=(\S+) http=(\S+)$/m.exec(out);
      const dns = /^consul dns=(\S+)$/m.exec(out);
      if (m && dns) {
        clearTimeout(timer);
        resolve({ child, grpc: m[1]!, socket: m[2]!, http: m[3]!, dns: dns[1]! });
      }
    });
    child.on("exit", (code) => reject(new Error(`control plane exited ${code}: ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

test("the control plane keeps its registry across kill -9, and the CLI lists it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-cli-"));
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const c of children) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const args = [
    "--data-dir",
    join(dir, "data"),
    "--grpc-port",
    "0",
    "--http-port",
    "0",
    "--grpc-socket",
    join(dir, "cp.sock"),
    "--dns-port",
    "0",
  ];

  const first = await startCli(args);
  children.push(first.child);
  t.is(first.socket, join(dir, "cp.sock"));
  const synced = await syncEndpoints(first.grpc, {
    source: "daemon:n1",
    endpoints: [
      {
        id: "abcdef0123456789",
        service: "reviews",
        address: "10.88.0.2",
        ports: [{ port: 9080, protocol: "http" }],
        workload: "reviews-1",
        node: "n1",
        healthy: true,
      },
    ],
  });
  const vip = synced.services[0]!.virtual_ip;
  first.child.kill("SIGKILL");
  await exited(first.child);

  const second = await startCli(args);
  children.push(second.child);
  const env = { ...process.env, WEFT_CONTROL_PLANE: `http://${second.http}` };
  const services = await run(process.execPath, [...WEFT, "services"], { cwd: root, env });
  const lines = services.stdout.trim().split("\n");
  t.regex(lines[0]!, /^NAME\s+VIRTUAL-IP\s+PORTS\s+ENDPOINTS\s+ORIGIN\s+RPS\s+ERRORS\s+P50\s+P99$/);
  // No spans seen: the numbers are "-".
  t.regex(
    lines[1]!,
    new RegExp(
      `^reviews\\s+${vip.replaceAll(".", "\\.")}\\s+9080/http\\s+1/1\\s+implied\\s+-\\s+-\\s+-\\s+-$`,
    ),
  );

  // Consul's DNS interface answers from the registry the restart kept.
  t.regex(second.dns, /^127\.0\.0\.1:\d+$/);
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([second.dns]);
  t.deepEqual(await resolver.resolve4("reviews.service.consul"), ["10.88.0.2"]);

  const json = await run(process.execPath, [...WEFT, "services", "--json", "--control-plane", second.http], {
    cwd: root,
  });
  t.is((JSON.parse(json.stdout) as Array<{ virtualIp: string }>)[0]!.virtualIp, vip);

  const endpoints = await run(process.execPath, [...WEFT, "endpoints", "reviews"], { cwd: root, env });
  t.regex(
    endpoints.stdout,
    /^ID\s+ADDRESS\s+PORTS\s+STATUS\s+WORKLOAD\s+NODE\s+SOURCE\s+RPS\s+ERRORS\s+P50\s+P99\n/,
  );
  // No spans from it yet: what it served is unknown, not zero.
  t.regex(
    endpoints.stdout,
    /abcdef012345\s+10\.88\.0\.2\s+9080\/http\s+healthy\s+reviews-1\s+n1\s+daemon:n1\s+-\s+-\s+-\s+-\n/,
  );

  const missing = await t.throwsAsync(
    run(process.execPath, [...WEFT, "endpoints", "nope"], { cwd: root, env }),
  );
  t.regex(
    (missing as Error & { stderr: string }).stderr,
    /service "nope" not found; list services with 'weft services'/,
  );

  second.child.kill("SIGTERM");
  t.is(await exited(second.child), 0, "SIGTERM shuts down cleanly");
});

test("the CLI says how to reach the control plane when it is not running", async (t) => {
  const error = await t.throwsAsync(
    run(process.execPath, [...WEFT, "services", "--control-plane", "http://127.0.0.1:1"], { cwd: root }),
  );
  t.regex(
    (error as Error & { stderr: string }).stderr,
    /cannot reach the control plane at http:\/\/127\.0\.0\.1:1.*weft control-plane/,
  );
});

test("a bad duration flag fails before anything starts, naming the flag and the forms it takes", async (t) => {
  for (const [flag, value, allowed] of [
    ["--source-ttl", "0", /like 30s, 2m or 500ms, got "0"/],
    ["--idle-service-ttl", "soon", /like 30s, 2m or 500ms, or 0, got "soon"/],
  ] as const) {
    const error = await t.throwsAsync(
      run(process.execPath, [...WEFT, "control-plane", "--grpc-port", "0", "--http-port", "0", flag, value], {
        cwd: root,
      }),
    );
    const stderr = (error as Error & { stderr: string }).stderr;
    t.regex(stderr, new RegExp(flag));
    t.regex(stderr, allowed);
  }
});
