// Debian's real Prometheus discovers the sidecars of a running mesh through the control plane's
// HTTP service discovery (http_sd_configs), scrapes them with the service/instance/version labels,
// and answers a query for weft_requests_total.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { freePort } from "./support/control-plane";
import { importExampleImage, type Mesh, startMesh } from "./support/mesh";
import { waitFor } from "./support/processes";

let mesh: Mesh;
let prometheus: ChildProcess | undefined;
let prometheusLog = "";

test.before(async () => {
  mesh = await startMesh();
  await importExampleImage(mesh, "hello-mesh");
  await mesh.weftOk(
    [
      "run",
      "-d",
      "--name",
      "shop",
      "--service",
      "shop",
      "--port",
      "8080/http",
      "--label",
      "version=v2",
    ].concat(["hello-mesh", "httpd", "-f", "-p", "8080", "-h", "/www/back"]),
  );
});

test.after.always(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const gone = new Promise((r) => prometheus!.once("exit", r));
    prometheus.kill("SIGTERM");
    await gone;
  }
  await mesh?.close();
  // mesh.close() deletes the bridge but not its FORWARD rules (the daemon adds them with the bridge).
  for (const dir of ["-i", "-o"]) {
    if (mesh) spawnSync("iptables", ["-D", "FORWARD", dir, mesh.bridge, "-j", "ACCEPT"]);
  }
});

interface Target {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: string;
  lastError: string;
}

test("Prometheus discovers the sidecar through http_sd and scrapes weft_requests_total", async (t) => {
  const sd = (await (await fetch(`${mesh.httpUrl}/api/v1/sd/prometheus`)).json()) as Array<{
    targets: string[];
    labels: Record<string, string>;
  }>;
  t.is(sd.length, 1);
  const ps = JSON.parse(await mesh.weftOk(["ps", "--json"])) as Array<{ name: string; address: string }>;
  const ip = ps.find((c) => c.name === "shop")!.address;
  t.deepEqual(sd[0]!.targets, [`${ip}:15090`]);
  t.like(sd[0]!.labels, {
    __meta_weft_service: "shop",
    service: "shop",
    instance: "shop",
    version: "v2",
    workload: "shop",
  });

  // Traffic for the counter to count.
  for (let i = 0; i < 3; i++) t.is((await fetch(`http://${ip}:8080/`)).status, 200);

  const dir = join(mesh.dir, "prometheus");
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(
    join(dir, "prom.yml"),
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: weft-sidecars
    http_sd_configs:
      - url: ${mesh.httpUrl}/api/v1/sd/prometheus
        refresh_interval: 1s
`,
  );
  const port = await freePort();
  execFileSync("prometheus", ["--version"]);
  prometheus = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prom.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  prometheus.stdout!.on("data", (c: Buffer) => (prometheusLog += c));
  prometheus.stderr!.on("data", (c: Buffer) => (prometheusLog += c));
  const api = `http://127.0.0.1:${port}/api/v1`;

  const target = await waitFor(
    "the sidecar target to be up in Prometheus",
    async () => {
      if (prometheus?.exitCode !== null) throw new Error(`prometheus exited with ${prometheus?.exitCode}`);
      const body = (await (await fetch(`${api}/targets`)).json()) as { data: { activeTargets: Target[] } };
      return body.data.activeTargets.find((x) => x.labels.service === "shop" && x.health === "up");
    },
    60_000,
    500,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${prometheusLog.slice(-3000)}`);
  });
  t.is(target.scrapeUrl, `http://${ip}:15090/metrics`);
  t.like(target.labels, {
    job: "weft-sidecars",
    service: "shop",
    instance: "shop",
    version: "v2",
    workload: "shop",
  });
  t.truthy(target.labels.node);

  const result = await waitFor(
    "weft_requests_total in Prometheus",
    async () => {
      const q = encodeURIComponent('sum(weft_requests_total{service="shop",direction="inbound"})');
      const body = (await (await fetch(`${api}/query?query=${q}`)).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      return body.data.result[0]?.value[1];
    },
    30_000,
    500,
  );
  t.true(Number(result) >= 3, `Prometheus counted ${result} inbound requests`);
});
