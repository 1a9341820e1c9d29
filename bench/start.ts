// Start-to-ready of `weft run` (with and without a sidecar) next to `runc run` of the same rootfs,
// and at the daemon's API (no CLI start-up in the timing), in one run. Two bare-runc baselines, run
// interleaved: `runc spec`'s default config, and the config.json weft itself wrote for a container
// (seccomp, capabilities, masked paths, its mounts), so the ratio separates runc's own cost of the
// isolation from what the daemon adds around it. Each API --no-sidecar run is followed by one run of
// each baseline, so that ratio compares runs taken under the same load. Next to them, when dockerd is
// installed (or with --docker), `docker run -d --network none` of the same rootfs at Docker's API, on
// a private dockerd (bench/dockerd.ts) that changes nothing on the host's firewall or network.
// Usage: sudo node --import tsx bench/start.ts [--docker | --no-docker] [CLI_RUNS=20] [API_RUNC_DOCKER_RUNS=50]
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { loadavg } from "node:os";
import { join } from "node:path";
import { importExampleImage, startMesh } from "../test/support/mesh";
import { hex, waitFor } from "../test/support/processes";
import { API, type EngineApi, findDockerd, startPrivateDockerd, timeEngineRuns } from "./dockerd";
import { socketApi } from "./socket-api";
import { fmtMs, median, percentile } from "./stats";

const flags = process.argv.slice(2).filter((a) => a.startsWith("--"));
const counts = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const runs = Number(counts[0] ?? 20);
/** Start-to-running at the daemon's API (POST /containers/create creates and starts). */
const apiRuns = Number(counts[1] ?? 50);
const dockerd = flags.includes("--no-docker") ? undefined : findDockerd();
if (flags.includes("--docker") && !dockerd) {
  throw new Error("--docker: dockerd is not installed; install it with 'apt-get install docker.io'");
}
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
const loadAtStart = load();

/** One GET on a fresh connection (addresses are reused by the next container: no pooled sockets). */
function httpOk(url: string): Promise<true | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => req.destroy());
  });
}

const api = <T>(method: string, path: string, body?: unknown): Promise<T> =>
  socketApi<T>(join(mesh.dir, "weft.sock"), method, path, body);

/** The Weft API's prefix: "/weft/v1" once the socket also serves the Docker API, "" before. */
let prefix = "";
const inspect = (name: string) => api<{ address: string }>("GET", `${prefix}/containers/${name}/json`);
const mesh = await startMesh();
try {
  await importExampleImage(mesh, "hello-mesh");
  prefix = await api("GET", "/weft/v1/containers/json").then(
    () => "/weft/v1",
    () => "",
  );
  const results: Record<string, number[]> = {
    "weft run returns (sidecar ready, app started)": [],
    "weft run, to the app answering HTTP": [],
    "weft run --no-sidecar returns": [],
    "weft run --no-sidecar, to HTTP": [],
    "runc run -d (same rootfs)": [],
  };

  for (let i = 0; i < runs; i++) {
    for (const sidecar of [true, false]) {
      const name = `b${i}${sidecar ? "s" : "n"}`;
      const t0 = performance.now();
      const args = ["run", "-d", "--name", name, "--service", "bench", "--port", "8080/http"];
      if (!sidecar) args.push("--no-sidecar");
      await mesh.weftOk([...args, "hello-mesh", "httpd", "-f", "-p", "8080", "-h", "/www/back"]);
      const returned = performance.now() - t0;
      const ip = (await inspect(name)).address;
      await waitFor(`${name} to answer`, () => httpOk(`http://${ip}:8080/`), 30_000, 5);
      const answered = performance.now() - t0;
      results[
        sidecar ? "weft run returns (sidecar ready, app started)" : "weft run --no-sidecar returns"
      ]!.push(returned);
      results[sidecar ? "weft run, to the app answering HTTP" : "weft run --no-sidecar, to HTTP"]!.push(
        answered,
      );
      await mesh.weftOk(["rm", "-f", name]);
    }
    process.stderr.write(`\rweft runs: ${i + 1}/${runs}`);
  }
  process.stderr.write("\n");

  // runc alone: the same rootfs unpacked, `runc run -d` of the same command (its own netns, no network).
  // Made before the API runs, so that each --no-sidecar API run is followed by one of each runc run:
  // the ratios then compare runs taken under the same load.
  const bundle = join(mesh.dir, "runc-bundle");
  mkdirSync(join(bundle, "rootfs"), { recursive: true });
  execFileSync("sh", [
    "-c",
    `sh examples/hello-mesh/build-image.sh ${bundle}/img.tar && tar -C ${bundle}/rootfs -xf ${bundle}/img.tar`,
  ]);
  execFileSync("runc", ["spec", "-b", bundle]);
  const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
  spec.process.terminal = false;
  spec.process.args = ["httpd", "-f", "-p", "8080", "-h", "/www/back"];
  spec.root.readonly = false;
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  const own = await weftsOwnBundle(bundle);
  const root = join(mesh.dir, "runc-root");
  const bare = "runc run -d (same rootfs)";
  const ownKey = "runc run -d (weft's config.json, same rootfs)";
  results[ownKey] = [];
  const runcRuns = () => {
    for (const [key, dir] of [
      [bare, bundle],
      [ownKey, own],
    ] as const) {
      const id = `wtbench${hex(3)}`;
      const t0 = performance.now();
      execFileSync("runc", ["--root", root, "run", "-d", "-b", dir, id], { stdio: "ignore" });
      results[key]!.push(performance.now() - t0);
      execFileSync("runc", ["--root", root, "delete", "-f", id]);
    }
  };

  // At the daemon's API: create-and-start returns once the app runs (and its sidecar is ready).
  for (const sidecar of [false, true]) {
    const key = sidecar ? "API create+start, sidecar" : "API create+start, --no-sidecar";
    results[key] = [];
    for (let i = 0; i < apiRuns; i++) {
      const name = `a${i}${sidecar ? "s" : "n"}`;
      const cmd = ["httpd", "-f", "-p", "8080", "-h", "/www/back"];
      const spec = {
        image: "hello-mesh",
        cmd,
        sidecar,
        service: "bench",
        ports: [{ port: 8080, protocol: "http" }],
      };
      const t0 = performance.now();
      const made = await api<{ status: string }>("POST", `${prefix}/containers/create?name=${name}`, spec);
      // Once create and start are split, create leaves it "created": start is part of the timing.
      if (made.status !== "running") await api("POST", `${prefix}/containers/${name}/start`);
      results[key]!.push(performance.now() - t0);
      await api("DELETE", `${prefix}/containers/${name}?force=1`);
      if (!sidecar) runcRuns();
      process.stderr.write(`\r${key}: ${i + 1}/${apiRuns}`);
    }
    process.stderr.write("\n");
  }

  // More runc runs when the CLI made more runs than the API.
  while (results[bare]!.length < Math.max(runs, apiRuns)) runcRuns();

  // docker run -d of the same rootfs and command at an Engine API: weft's own Docker API, then (when
  // dockerd is installed) a private dockerd with --network none.
  const docker = { Image: "hello-mesh", Cmd: ["sleep", "3600"] };
  const engineRow = async (key: string, call: EngineApi, body: object) => {
    results[key] = await timeEngineRuns(call, body, apiRuns, (n) =>
      process.stderr.write(`\r${key}: ${n}/${apiRuns}`),
    );
    process.stderr.write("\n");
  };
  const weftDocker: EngineApi = (method, path, body) => api(method, `${API}${path}`, body);
  if (prefix) {
    await engineRow("weft, docker's request (sleep), --no-sidecar", weftDocker, {
      ...docker,
      Labels: { "weft.sidecar": "false" },
    });
    await engineRow("weft, docker's request (sleep), sidecar", weftDocker, {
      ...docker,
      Labels: { "weft.service": "bench" },
    });
  }
  const dockerKey = "docker run -d --network none (API create+start)";
  let dockerAbout = "";
  if (dockerd) {
    const daemon = await startPrivateDockerd(dockerd);
    try {
      await daemon.importRootfs(join(bundle, "img.tar"), "wtbench/hello-mesh:1");
      dockerAbout = daemon.describe;
      await engineRow(dockerKey, daemon.api, {
        ...docker,
        Image: "wtbench/hello-mesh:1",
        HostConfig: { NetworkMode: "none" },
      });
    } finally {
      await daemon.stop();
    }
  }

  console.log(
    `\nstart-to-ready: CLI ${runs} runs, API and runc ${Math.max(runs, apiRuns)} runs (this machine: ${execFileSync("nproc").toString().trim()} cores; load average ${loadAtStart} at start, ${load()} at end)`,
  );
  const base = results[bare]!;
  const ownBase = results[ownKey]!;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  console.log(
    `${"".padEnd(48)} ${"median".padStart(10)}  ${"p90".padStart(10)}  ${"p99".padStart(10)}   vs runc (median, p99)   vs runc of weft's config`,
  );
  for (const [what, values] of Object.entries(results)) {
    if (values.length === 0) continue;
    const [m, p99] = [median(values), percentile(values, 99)];
    console.log(
      `${what.padEnd(48)} ${fmtMs(m).padStart(10)}  ${fmtMs(percentile(values, 90)).padStart(10)}  ${fmtMs(p99).padStart(10)}   ${ratio(m, median(base)).padStart(7)} ${ratio(p99, percentile(base, 99)).padStart(7)}         ${ratio(m, median(ownBase)).padStart(7)} ${ratio(p99, percentile(ownBase, 99)).padStart(7)}`,
    );
  }
  const dockerTimes = results[dockerKey];
  if (dockerTimes) {
    console.log(`\n${dockerAbout}; its containers run "sleep 3600" with --network none (no netns set-up`);
    console.log(
      "beyond an empty one), while each weft container gets its netns, veth pair and address on the bridge.",
    );
    for (const key of Object.keys(results).filter(
      (k) => k.startsWith("API ") || k.startsWith("weft, docker"),
    )) {
      const w = results[key]!;
      console.log(
        `${key} vs docker run: median ${ratio(median(w), median(dockerTimes))}, p99 ${ratio(percentile(w, 99), percentile(dockerTimes, 99))}` +
          (key === "API create+start, sidecar" ? " (goal: below 1.00x)" : ""),
      );
    }
  } else {
    console.log("\ndocker run: not measured (no dockerd found; install docker.io or pass --docker)");
  }
} catch (err) {
  // Shown before the mesh closes: a failing close would otherwise hide it.
  console.error(
    err,
    `\nthe daemon's and control plane's last lines:\n${mesh.logs().split("\n").slice(-40).join("\n")}`,
  );
  process.exitCode = 1;
} finally {
  await mesh.close();
}

/**
 * A bundle with the config.json the daemon wrote for a --no-sidecar container of the same image, on
 * the unpacked rootfs: its own network namespace instead of the workload's, runc's default cgroup path,
 * and copies of its /etc files (the container is removed before the runs).
 */
async function weftsOwnBundle(bare: string): Promise<string> {
  const made = await api<{ id: string; status: string }>("POST", `${prefix}/containers/create?name=cfg`, {
    image: "hello-mesh",
    cmd: ["httpd", "-f", "-p", "8080", "-h", "/www/back"],
    sidecar: false,
  });
  const dir = join(mesh.dir, "state", "containers", made.id);
  const own = join(mesh.dir, "runc-own");
  mkdirSync(own, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  config.root = { path: join(bare, "rootfs"), readonly: false };
  config.linux.namespaces = config.linux.namespaces.map((n: { type: string }) =>
    n.type === "network" ? { type: "network" } : n,
  );
  delete config.linux.cgroupsPath;
  for (const m of config.mounts as Array<{ source: string; type: string }>) {
    if (m.type === "bind" && m.source.startsWith(dir)) {
      const copy = join(own, m.source.slice(dir.length + 1).replaceAll("/", "_"));
      copyFileSync(m.source, copy);
      m.source = copy;
    }
  }
  writeFileSync(join(own, "config.json"), JSON.stringify(config));
  await api("DELETE", `${prefix}/containers/cfg?force=1`);
  return own;
}
