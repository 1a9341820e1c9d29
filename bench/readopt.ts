// Time for a daemon to re-adopt its running containers after a SIGKILL: the daemon is killed with no
// chance to clean up, started again with the same flags, and timed from its spawn to its "ready" line
// and to its API listing every container as running. The same restart with no containers first, so
// the daemon's own start-up (node, the bridge, the socket) is separated from the adoption.
// Usage: sudo node --import tsx bench/readopt.ts [--no-sidecar] [CONTAINERS=50] [RESTARTS=3]
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { WEFT_API_PREFIX } from "../runtime/src/api/client";
import { importExampleImage, startMesh } from "../test/support/mesh";
import { type LongRunning, startWeft } from "../test/support/processes";
import { socketApi } from "./socket-api";
import { fmtMs, median } from "./stats";

const flags = process.argv.slice(2).filter((a) => a.startsWith("--"));
const counts = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const containers = Number(counts[0] ?? 50);
const restarts = Number(counts[1] ?? 3);
const sidecar = !flags.includes("--no-sidecar");

const mesh = await startMesh();
const socket = join(mesh.dir, "weft.sock");
let daemon: LongRunning | undefined;

/** The Weft API (under /weft/v1: the socket's unprefixed paths are the Docker Engine API's). */
const api = <T>(method: string, path: string, body?: unknown): Promise<T> =>
  socketApi<T>(socket, method, `${WEFT_API_PREFIX}${path}`, body);

/** The running daemon of this mesh (found by its socket flag) and the arguments it was started with. */
function findDaemon(): { pid: number; args: string[] } {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
    } catch {
      continue; // gone meanwhile
    }
    const at = argv.indexOf("daemon");
    if (at > 0 && argv.includes(socket)) return { pid: Number(pid), args: argv.slice(at) };
  }
  throw new Error(`no weft daemon serving ${socket} is running`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGKILLs the daemon, starts it again and times its ready line and its listing `expected` running. */
async function killAndRestart(expected: number): Promise<{ ready: number; listed: number }> {
  const { pid, args } = findDaemon();
  process.kill(pid, "SIGKILL");
  while (readdirSync("/proc").includes(String(pid))) await sleep(5);
  const t0 = performance.now();
  daemon = await startWeft(args, /weft daemon ready/, 120_000);
  const ready = performance.now() - t0;
  for (;;) {
    const list = await api<Array<{ status: string }>>("GET", "/containers/json?all=1");
    if (list.filter((c) => c.status === "running").length >= expected) break;
    await sleep(5);
  }
  return { ready, listed: performance.now() - t0 };
}

try {
  await importExampleImage(mesh, "hello-mesh");
  const empty: Array<{ ready: number; listed: number }> = [];
  for (let i = 0; i < restarts; i++) empty.push(await killAndRestart(0));

  for (let i = 0; i < containers; i++) {
    const made = await api<{ status: string }>("POST", `/containers/create?name=r${i}`, {
      image: "hello-mesh",
      cmd: ["httpd", "-f", "-p", "8080", "-h", "/www/back"],
      sidecar,
      service: "bench",
      ports: [{ port: 8080, protocol: "http" }],
    });
    if (made.status !== "running") await api("POST", `/containers/r${i}/start`);
    process.stderr.write(`\rcontainers running: ${i + 1}/${containers}`);
  }
  process.stderr.write("\n");
  const full: Array<{ ready: number; listed: number }> = [];
  for (let i = 0; i < restarts; i++) full.push(await killAndRestart(containers));

  const row = (what: string, rs: Array<{ ready: number; listed: number }>) =>
    `${what.padEnd(44)} ${fmtMs(median(rs.map((r) => r.ready))).padStart(10)}  ${fmtMs(median(rs.map((r) => r.listed))).padStart(10)}   ${rs.map((r) => fmtMs(r.ready)).join(", ")}`;
  console.log(
    `\nre-adopt after a daemon SIGKILL: ${restarts} restarts each, ${containers} containers ${sidecar ? "with" : "without"} sidecars`,
  );
  console.log(
    `${"".padEnd(44)} ${"to ready".padStart(10)}  ${"all listed".padStart(10)}   (medians; each restart to ready)`,
  );
  console.log(row("daemon restart, no containers", empty));
  console.log(row(`daemon restart, ${containers} running containers`, full));
  const adopt = median(full.map((r) => r.listed)) - median(empty.map((r) => r.listed));
  console.log(
    `adoption itself (difference of medians): ${fmtMs(adopt)}, ${fmtMs(adopt / containers)} per container`,
  );
} finally {
  // The mesh removes the containers through the restarted daemon's socket, then stops the first
  // daemon (already dead): the restarted one is stopped here, after the containers are gone.
  const list = await api<Array<{ name: string }>>("GET", "/containers/json?all=1").catch(() => []);
  for (const c of list) await api("DELETE", `/containers/${c.name}?force=1`).catch(() => undefined);
  await daemon?.stop();
  await mesh.close();
}
