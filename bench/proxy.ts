// One wrk figure (rps, p50, p99) for a request through both sidecars next to the same request straight
// to the app, in one run. Usage: sudo node --import tsx bench/proxy.ts [SECONDS] [CONNECTIONS]
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { importExampleImage, startMesh } from "../test/support/mesh";
import { waitFor } from "../test/support/processes";

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 50);
const mesh = await startMesh();
const servers: ChildProcess[] = [];

interface Ctr {
  id: string;
  name: string;
  address: string;
}

async function container(name: string, extra: string[]): Promise<Ctr> {
  await mesh.weftOk(["run", "-d", "--name", name, ...extra, "hello-mesh", "sleep", "1000000"]);
  const ps = JSON.parse(await mesh.weftOk(["ps", "--json"])) as Ctr[];
  const c = ps.find((x) => x.name === name);
  if (!c) throw new Error(`${name} is not running`);
  return c;
}

const netns = (c: Ctr) => `/var/run/netns/weft-${c.id.slice(0, 12)}`;

function wrk(target: string, ns?: Ctr): { rps: number; p50: string; p99: string } {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", target];
  const out = ns
    ? execFileSync("nsenter", [`--net=${netns(ns)}`, "wrk", ...args]).toString()
    : execFileSync("wrk", args).toString();
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? "?";
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? "?";
  if (/Non-2xx|Socket errors/.test(out)) process.stderr.write(out);
  return { rps, p50, p99 };
}

try {
  execFileSync("sh", ["scripts/install-deps.sh"], {
    env: { ...process.env, WEFT_BENCH_DEPS: "1" },
    stdio: "inherit",
  });
  await importExampleImage(mesh, "hello-mesh");
  const back = await container("back", ["--service", "back", "--port", "8080/http"]);
  const direct = await container("direct", ["--no-sidecar"]);
  const front = await container("front", ["--service", "front", "--port", "8080/http"]);
  for (const c of [back, direct]) {
    servers.push(
      spawn("nsenter", [`--net=${netns(c)}`, process.execPath, join("bench", "upstream.mjs"), "8080"], {
        stdio: "inherit",
      }),
    );
  }
  const services = (await (await fetch(`${mesh.httpUrl}/api/v1/services`)).json()) as Array<{
    name: string;
    virtualIp: string;
  }>;
  const vip = services.find((s) => s.name === "back")?.virtualIp;
  await waitFor("the direct app", async () =>
    (await fetch(`http://${direct.address}:8080/`)).ok ? true : undefined,
  );
  await waitFor("the app behind its sidecar", async () =>
    (await fetch(`http://${back.address}:8080/`)).ok ? true : undefined,
  );

  const rows: Array<[string, ReturnType<typeof wrk>]> = [
    ["direct (host -> app, no sidecar)", wrk(`http://${direct.address}:8080/`)],
    ["through both sidecars (front -> back VIP)", wrk(`http://${vip}:8080/`, front)],
  ];
  console.log(`\nwrk -t1 -c${connections} -d${seconds}s, 1 KiB responses, keep-alive`);
  const base = rows[0]![1].rps;
  for (const [what, r] of rows) {
    console.log(
      `${what.padEnd(44)} ${r.rps.toFixed(0).padStart(8)} rps (${(r.rps / base).toFixed(2)}x)   p50 ${r.p50.padStart(8)}   p99 ${r.p99.padStart(8)}`,
    );
  }
} finally {
  for (const s of servers) s.kill();
  await mesh.close();
}
