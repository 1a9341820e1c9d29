// Helpers for this folder's kernel tests: unique names and a subnet no other interface uses.
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { readTextOrEmpty } from "../sys/files";
import { run } from "./exec";

export function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/**
 * A random PREFIX.X.0/24 (PREFIX as "10.251") that no route on the host covers and no other test
 * process holds: claimed with an atomic mkdir under /run (stale claims of dead processes are taken
 * over) and given back when this process exits. Parallel test files must never share a subnet: two
 * bridges with one subnet send each other's traffic astray, and the daemon refuses the second.
 */
export async function freeTestSubnet(prefix = "10.251"): Promise<string> {
  const { stdout } = await run("ip", ["-4", "route", "show", "table", "all"]);
  mkdirSync(CLAIMS, { recursive: true });
  for (let i = 0; i < 200; i++) {
    const x = Math.floor(Math.random() * 256);
    const subnet = `${prefix}.${x}.0/24`;
    if (stdout.includes(`${prefix}.${x}.`)) continue;
    if (claim(join(CLAIMS, `${prefix}.${x}`))) return subnet;
  }
  throw new Error(`no free ${prefix}.X.0/24 test subnet (claims in ${CLAIMS})`);
}

const CLAIMS = "/run/weft-test-subnets";
const claimed = new Set<string>();

function claim(dir: string): boolean {
  try {
    mkdirSync(dir);
  } catch {
    // Held: by a live process, or left by one that died (then take it over once). No pid yet:
    // its owner is between mkdir and writing it, unless the claim is older than a few seconds.
    const pid = Number(readTextOrEmpty(join(dir, "pid")));
    if (pid > 0 && alive(pid)) return false;
    if (!(pid > 0) && Date.now() - mtimeMs(dir) < 10_000) return false;
    rmSync(dir, { recursive: true, force: true });
    try {
      mkdirSync(dir);
    } catch {
      return false;
    }
  }
  writeFileSync(join(dir, "pid"), String(process.pid));
  if (claimed.size === 0) process.once("exit", () => releaseAll());
  claimed.add(dir);
  return true;
}

function releaseAll(): void {
  for (const dir of claimed) rmSync(dir, { recursive: true, force: true });
  claimed.clear();
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** How a TCP connect to host:port ends: "connected", or the error's code ("ECONNREFUSED"). */
export function connectResult(port: number, host: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}
