// How fast files go into and out of a running container: the docker CLI 28's `cp` against weft's
// daemon and against a private dockerd (bench/dockerd.ts; the same client for both, so the daemons
// are compared), `weft cp` (weft's own CLI, from dist/), and a `tar -c | tar -x` pipe on the same
// filesystem as the floor. Two payloads: one large file, and a tree of many small files (where the
// per-entry work shows). Each copy is timed end to end, CLI start included; the median of the runs,
// taken in rounds where every tool copies in turn.
// Usage: sudo node --import tsx bench/cp.ts [RUNS=3] [LARGE_MIB=256] [SMALL_FILES=2000]; wants
// `npm run build` (for dist/) and, for the Docker column, docker.io's dockerd.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DOCKER } from "../runtime/src/api/docker/docker-cli.testing";
import { busyboxTarball, startRealDaemon } from "../runtime/src/engine/real-daemon.testing";
import { findDockerd, type PrivateDockerd, startPrivateDockerd } from "./dockerd";
import { median } from "./stats";

const run = promisify(execFile);
const [runs = 3, largeMiB = 256, smallFiles = 2000] = process.argv.slice(2).map(Number);
const dir = mkdtempSync(join(tmpdir(), "wt-bench-cp-"));
const payloads = {
  large: { path: join(dir, "large.bin"), bytes: largeMiB * 1024 * 1024 },
  small: { path: join(dir, "small"), bytes: smallFiles * 4096 },
};
writeFileSync(payloads.large.path, Buffer.alloc(payloads.large.bytes, 0x5a));
mkdirSync(payloads.small.path);
for (let i = 0; i < smallFiles; i++) {
  const sub = join(payloads.small.path, `d${i % 50}`);
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(sub, `f${i}`), Buffer.alloc(4096, i % 251));
}

/** Runs a command and times it; asynchronously, as weft's daemon runs in this very process. */
async function seconds(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const t0 = process.hrtime.bigint();
  await run(cmd, args, { env, timeout: 180_000 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stderr.write(`cp bench: ${s.toFixed(2)} s  ${[cmd, ...args].join(" ").slice(-110)}\n`);
  return s;
}

type Kind = "large" | "small";
type Row = { what: string; inS: number[]; outS: number[] };
const rows: Record<Kind, Row[]> = { large: [], small: [] };

/** One way of copying: into the container (or the floor's target) and out again; seconds each. */
interface Tool {
  what: string;
  copy(kind: Kind, src: string, i: number): Promise<{ inS: number; outS: number }>;
}

/** A tool that takes docker cp's arguments, against CONTAINER. */
let toolsMade = 0;
function cpTool(what: string, cp: (args: string[]) => Promise<number>, container: string): Tool {
  // Its own names in the container: a copy into a name another tool made would nest inside it.
  const id = toolsMade++;
  return {
    what,
    async copy(kind, src, i) {
      const name = `${container}:/tmp/in-${kind}-${i}-t${id}`;
      const out = join(dir, `out-${kind}-${i}`);
      const inS = await cp([src, name]);
      const outS = await cp([name, out]);
      rmSync(out, { recursive: true, force: true });
      return { inS, outS };
    },
  };
}

// The floor: the same bytes through two tar processes on the same filesystem.
const floor: Tool = {
  what: "tar -c | tar -x (no daemon)",
  async copy(kind, src, i) {
    const target = join(dir, `floor-${kind}-${i}`);
    mkdirSync(target);
    const name = src.split("/").pop() as string;
    const s = await seconds("sh", ["-c", `tar -C ${dir} -cf - ${name} | tar -C ${target} -xf -`]);
    rmSync(target, { recursive: true, force: true });
    return { inS: s, outS: s };
  },
};

const weft = await startRealDaemon();
let docker: PrivateDockerd | undefined;
try {
  await weft.run({ name: "cpbench", cmd: ["sleep", "3600"] });
  const socket = join(weft.dir, "run", "weft.sock");
  const cli = join(import.meta.dirname, "..", "bin", "weft.cjs");
  const tools: Tool[] = [
    floor,
    cpTool(
      "weft cp (weft's CLI, weft daemon)",
      (a) => seconds("node", [cli, "cp", "-q", ...a], { ...process.env, WEFT_HOST: `unix://${socket}` }),
      "cpbench",
    ),
    cpTool(
      "docker cp (docker CLI, weft daemon)",
      (a) => seconds(DOCKER, ["-H", `unix://${socket}`, "cp", "-q", ...a]),
      "cpbench",
    ),
  ];
  const dockerd = findDockerd();
  if (dockerd) {
    docker = await startPrivateDockerd(dockerd);
    const image = join(dir, "image");
    mkdirSync(image);
    await docker.importRootfs(busyboxTarball(image), "wtbench/busybox:1");
    const made = await docker.api<{ Id: string }>("POST", "/containers/create?name=cpbench", {
      Image: "wtbench/busybox:1",
      Cmd: ["sleep", "3600"],
      HostConfig: { NetworkMode: "none" },
    });
    await docker.api("POST", `/containers/${made.Id}/start`);
    const sock = docker.socket;
    tools.push(
      cpTool(
        `docker cp (docker CLI, ${docker.describe})`,
        (a) => seconds(DOCKER, ["-H", `unix://${sock}`, "cp", "-q", ...a]),
        "cpbench",
      ),
    );
  }
  // Rounds of every tool in turn, so that a stretch where this machine's file system is slow (the
  // cost of creating a file varied twentyfold within one session) falls on all of them alike.
  for (const kind of ["large", "small"] as const) {
    const kindRows = tools.map((t) => ({ what: t.what, inS: [] as number[], outS: [] as number[] }));
    for (let i = 0; i < runs; i++) {
      for (const [j, tool] of tools.entries()) {
        const { inS, outS } = await tool.copy(kind, payloads[kind].path, i);
        kindRows[j]?.inS.push(inS);
        kindRows[j]?.outS.push(outS);
      }
    }
    rows[kind].push(...kindRows);
  }
} finally {
  await docker?.stop();
  await weft.close();
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (s: number) => `${s.toFixed(2)} s`;
for (const [kind, list] of Object.entries(rows)) {
  const p = payloads[kind as Kind];
  const title =
    kind === "large" ? `one file of ${largeMiB} MiB` : `${smallFiles} files of 4 KiB in 50 directories`;
  console.log(`\n${title}: median of ${runs} copies, end to end (CLI start included)`);
  console.log(
    `${"".padEnd(66)} ${"into".padStart(9)} ${"MB/s".padStart(7)} ${"out of".padStart(9)} ${"MB/s".padStart(7)}`,
  );
  for (const r of list) {
    const [i, o] = [median(r.inS), median(r.outS)];
    console.log(
      `${r.what.padEnd(66)} ${fmt(i).padStart(9)} ${(p.bytes / 1e6 / i).toFixed(0).padStart(7)} ${fmt(o).padStart(9)} ${(p.bytes / 1e6 / o).toFixed(0).padStart(7)}`,
    );
  }
}
