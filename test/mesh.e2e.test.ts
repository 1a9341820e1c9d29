// The foundation end to end: two services in runc containers, each with an injected sidecar, one
// calling the other by service name; the control plane knows both and answers registry queries.
import { execSync } from "node:child_process";
import test from "ava";
import Consul from "consul";
import { importExampleImage, type Mesh, startMesh } from "./support/mesh";
import { waitFor } from "./support/processes";

let mesh: Mesh;

test.before(async () => {
  mesh = await startMesh();
  await importExampleImage(mesh, "hello-mesh");
  await mesh.weftOk(
    ["run", "-d", "--name", "back", "--service", "back", "--port", "8080/http", "--label", "version=v1"]
      .concat(["--memory", "64m", "--cpus", "0.5", "--pids", "100"])
      .concat(["hello-mesh", "httpd", "-f", "-p", "8080", "-h", "/www/back"]),
  );
  await mesh.weftOk(
    ["run", "-d", "--name", "front", "--service", "front", "--port", "8080/http"].concat([
      "hello-mesh",
      "httpd",
      "-f",
      "-p",
      "8080",
      "-h",
      "/www/front",
    ]),
  );
});

test.after.always(async () => {
  await mesh?.close();
});

interface PsRow {
  id: string;
  name: string;
  address: string;
  status: string;
}

async function ps(all = false): Promise<PsRow[]> {
  return JSON.parse(await mesh.weftOk(["ps", ...(all ? ["-a"] : []), "--json"])) as PsRow[];
}

async function containerIp(name: string): Promise<string> {
  const row = (await ps()).find((r) => r.name === name);
  if (!row?.address) throw new Error(`no address for ${name} in weft ps`);
  return row.address;
}

/** wget inside a container (busybox's own -T crashes, hence timeout). */
function wgetIn(container: string, url: string): Promise<string> {
  return mesh.weftOk(["exec", container, "timeout", "20", "wget", "-q", "-O", "-", url]);
}

test.serial("front calls back by name through both sidecars", async (t) => {
  // The front app runs wget http://back:8080/ in a CGI script: DNS, outbound capture, the front sidecar,
  // the back sidecar's inbound capture and the back app.
  const out = await wgetIn("front", "http://127.0.0.1:8080/cgi-bin/call");
  t.regex(out, /hello from back/, out);
  t.regex(out, /Via: .*1\.1 back \(weft-inbound\)/i, out);
  t.regex(out, /Via: .*1\.1 front \(weft-outbound\)/i, out);

  // Both sidecars counted the request.
  const backMetrics = await (await fetch(`http://${await containerIp("back")}:15090/metrics`)).text();
  t.regex(backMetrics, /weft_requests_total\{[^}]*direction="inbound"[^}]*\} [1-9]/, backMetrics);
  const frontMetrics = await (await fetch(`http://${await containerIp("front")}:15090/metrics`)).text();
  t.regex(
    frontMetrics,
    /weft_requests_total\{[^}]*direction="outbound"[^}]*service="back"[^}]*\} [1-9]/,
    frontMetrics,
  );
});

test.serial("a caller without a sidecar (the host) still goes through the app's sidecar", async (t) => {
  const res = await fetch(`http://${await containerIp("back")}:8080/`);
  t.is(res.status, 200);
  t.is((await res.text()).trim(), "hello from back");
  t.regex(res.headers.get("via") ?? "", /1\.1 back \(weft-inbound\)/);
});

test.serial("the registry lists both services over REST and to the consul client", async (t) => {
  const services = (await (await fetch(`${mesh.httpUrl}/api/v1/services`)).json()) as Array<{
    name: string;
    virtualIp: string;
  }>;
  const names = services.map((s) => s.name).sort();
  t.deepEqual(names, ["back", "front"]);
  for (const s of services) t.regex(s.virtualIp, /^10\.96\.\d+\.\d+$/);

  const endpoints = (await (await fetch(`${mesh.httpUrl}/api/v1/services/back/endpoints`)).json()) as Array<{
    address: string;
  }>;
  t.deepEqual(
    endpoints.map((e) => e.address),
    [await containerIp("back")],
  );

  const consul = new Consul({ host: "127.0.0.1", port: mesh.httpPort });
  const catalog = (await consul.catalog.service.list()) as Record<string, string[]>;
  t.truthy(catalog.back);
  t.truthy(catalog.front);
  const nodes = (await consul.catalog.service.nodes("back")) as Array<{
    ServiceAddress: string;
    ServicePort: number;
  }>;
  t.is(nodes.length, 1);
  t.is(nodes[0]?.ServiceAddress, await containerIp("back"));
  t.is(nodes[0]?.ServicePort, 8080);
  const healthy = (await consul.health.service({ service: "back", passing: true })) as unknown[];
  t.is(healthy.length, 1);
});

test.serial("bad input gets a clear error and loses nothing", async (t) => {
  const missing = await mesh.weft(["run", "-d", "--name", "ghost", "no-such-image"]);
  t.not(missing.code, 0);
  t.regex(missing.stderr, /image "no-such-image" not found.*weft image import/);

  const duplicate = await mesh.weft(["run", "-d", "--name", "back", "hello-mesh", "sleep", "10"]);
  t.not(duplicate.code, 0);
  t.regex(duplicate.stderr, /already in use/);

  const reserved = await mesh.weft([
    "run",
    "-d",
    "--name",
    "sneaky",
    "--user",
    "1337",
    "hello-mesh",
    "sleep",
    "10",
  ]);
  t.not(reserved.code, 0);

  // The running services are untouched.
  const out = await wgetIn("front", "http://back:8080/");
  t.regex(out, /hello from back/);
  t.deepEqual((await ps(true)).map((r) => r.name).sort(), ["back", "front"]);
});

test.serial("stop and rm deregister the endpoint and leave nothing behind", async (t) => {
  const back = (await ps()).find((r) => r.name === "back");
  if (!back) throw new Error("back is not running");
  const ip = await containerIp("back");
  await mesh.weftOk(["rm", "-f", "back"], 60_000);
  await waitFor("back's endpoint to be gone", async () => {
    const eps = (await (await fetch(`${mesh.httpUrl}/api/v1/services/back/endpoints`)).json()) as unknown[];
    return eps.length === 0 ? true : undefined;
  });
  t.false((await ps(true)).some((r) => r.name === "back"));
  const sh = (cmd: string) => execSync(cmd).toString();
  t.false(sh("ip -o addr").includes(`inet ${ip}/`), "the address is gone");
  t.false(sh("ip netns list").includes(back.id.slice(0, 12)), "the netns is gone");
  t.false(sh("ip -o link").includes(`wv${back.id.slice(0, 10)}`), "the veth is gone");
  t.false(sh("mount").includes(back.id), "no mount of the container is left");
  t.false(
    sh("find /sys/fs/cgroup -maxdepth 3 -name '" + back.id + "*'").trim().length > 0,
    "no cgroup is left",
  );
  t.false(
    sh("ps -eo args").includes(`--node-id back.${back.id.slice(0, 12)}`),
    "the sidecar process is gone",
  );
});
