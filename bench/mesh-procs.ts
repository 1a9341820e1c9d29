// The non-Weft processes bench/mesh-speed.ts runs: the upstream (nginx with one worker, or
// bench/upstream.mjs when nginx is missing), HAProxy and the bare Node.js pipe (bench/node-pipe.mjs),
// each with its config in the bench's temp dir, plus per-process CPU and RSS from /proc. Every
// process started here is SIGKILLed when the bench exits, whatever the reason (the bench turns
// SIGINT/SIGTERM into an exit).
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { delimiter, join } from "node:path";

const started: ChildProcess[] = [];

/** Kills every process started here that is still running. */
export function killStarted(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}
process.on("exit", killStarted);

/** Spawns a process that is killed when the bench exits; keeps the tail of its stderr for errors. */
export function spawnTracked(
  cmd: string,
  args: string[],
  stdout: "pipe" | "ignore" = "ignore",
): ChildProcess & { stderrTail(): string } {
  const child = spawn(cmd, args, { stdio: ["ignore", stdout, "pipe"] });
  started.push(child);
  let tail = "";
  child.stderr?.on("data", (d: Buffer) => {
    tail = (tail + d.toString()).slice(-2000);
  });
  return Object.assign(child, { stderrTail: () => tail });
}

/** The path of cmd on $PATH (plus the sbin dirs a root shell has), or undefined. */
export function onPath(cmd: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin", "/usr/local/sbin"];
  for (const d of dirs) {
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return join(d, cmd);
    } catch {}
  }
  return undefined;
}

/** A port free on 127.0.0.1 right now (the OS picks it; a server binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Waits until http://127.0.0.1:port/ answers 200, failing with the process's stderr if it exits. */
export async function waitForHttp(
  name: string,
  port: number,
  child: ChildProcess & { stderrTail(): string },
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited before answering on port ${port}: ${child.stderrTail().trim()}`);
    }
    const status = await new Promise<number>((resolve) =>
      http
        .get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on("error", () => resolve(0)),
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${name} did not answer 200 on port ${port} within 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Proc {
  name: string;
  pid: number;
}

/** utime + stime of a process in ms (USER_HZ is 100 on Linux), 0 once it is gone. */
export function cpuMs(pid: number): number {
  return systemCpuMs(pid, true);
}

/**
 * stime alone: the CPU a process spent in the kernel, in system calls and the network stack they
 * run (on loopback a send also runs the receiver's TCP path). 0 once it is gone.
 */
export function kernelCpuMs(pid: number): number {
  return systemCpuMs(pid, false);
}

function systemCpuMs(pid: number, withUser: boolean): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((withUser ? Number(fields[11]) : 0) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** VmRSS of a process in MB, NaN once it is gone. */
export function rssMb(pid: number): number {
  return statusMb(pid, "VmRSS");
}

/**
 * RssAnon in MB: the part of RSS that is the process's own memory, without its executable's and
 * libraries' file pages (which every process running the same binary shares through the page cache).
 */
export function rssAnonMb(pid: number): number {
  return statusMb(pid, "RssAnon");
}

function statusMb(pid: number, field: "VmRSS" | "RssAnon"): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** A process serving HTTP on 127.0.0.1:port. */
export interface Server extends Proc {
  port: number;
}

export const BODY_BYTES = 1024;

/**
 * The upstream all three paths share: nginx with one worker and no master answering every method
 * with a fixed 1 KiB body (a POST's body is read and discarded, the connection kept alive), or
 * bench/upstream.mjs (node:http, much slower) when nginx is not installed.
 */
export async function startUpstream(dir: string): Promise<Server & { kind: "nginx" | "node" }> {
  const port = await freePort();
  const nginx = onPath("nginx");
  if (!nginx) {
    console.error(
      "mesh-speed: nginx is not installed (apt-get install -y nginx-light); falling back to bench/upstream.mjs, " +
        "a node:http server that saturates long before the proxies do, so throughput ratios mean less",
    );
    const child = spawnTracked(process.execPath, [
      join(import.meta.dirname, "upstream.mjs"),
      String(port),
      "127.0.0.1",
    ]);
    await waitForHttp("bench/upstream.mjs", port, child);
    return { name: "upstream (node)", pid: child.pid!, port, kind: "node" };
  }
  const root = join(dir, "nginx");
  mkdirSync(root, { recursive: true });
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((t) => `  ${t}_temp_path ${join(root, t)};`)
    .join("\n");
  const conf = join(root, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${join(root, "nginx.pid")};
error_log ${join(root, "error.log")} warn;
events { worker_connections 4096; }
http {
  access_log off;
${temp}
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  default_type text/plain;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { return 200 "${"x".repeat(BODY_BYTES)}"; }
  }
}
`,
  );
  const child = spawnTracked(nginx, ["-c", conf, "-p", root]);
  await waitForHttp("nginx", port, child);
  return { name: "upstream (nginx)", pid: child.pid!, port, kind: "nginx" };
}

/** One HAProxy, one thread, no logging, keep-alive to both sides, in front of 127.0.0.1:target. */
export async function startHaproxy(dir: string, name: string, target: number): Promise<Server> {
  const haproxy = onPath("haproxy");
  if (!haproxy) throw new Error("haproxy is not installed: apt-get install -y haproxy");
  const port = await freePort();
  const conf = join(dir, `${name.replace(/\W+/g, "-")}.cfg`);
  writeFileSync(
    conf,
    `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  no log
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:${target}
`,
  );
  const child = spawnTracked(haproxy, ["-db", "-f", conf]);
  await waitForHttp(name, port, child);
  return { name, pid: child.pid!, port };
}

/** bench/node-pipe.mjs in front of 127.0.0.1:target: a Node.js process that only copies bytes. */
export async function startNodePipe(name: string, target: number): Promise<Server> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [
    join(import.meta.dirname, "node-pipe.mjs"),
    String(port),
    String(target),
  ]);
  await waitForHttp(name, port, child);
  return { name, pid: child.pid!, port };
}
