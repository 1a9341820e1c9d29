// The control plane dies (SIGKILL) under a running mesh: traffic between two services keeps flowing
// through their sidecars while it is down; after it restarts on the same ports and socket, the daemon
// and sidecars resync (GET /api/v1/proxies lists them again) and the registry is as it was.
import test from "ava";
import { importExampleImage, type Mesh, startMesh } from "./support/mesh";
import { waitFor } from "./support/processes";

let mesh: Mesh;

test.before(async () => {
  mesh = await startMesh();
  await importExampleImage(mesh, "hello-mesh");
  for (const name of ["back", "front"]) {
    await mesh.weftOk(
      ["run", "-d", "--name", name, "--service", name, "--port", "8080/http"].concat([
        "hello-mesh",
        "httpd",
        "-f",
        "-p",
        "8080",
        "-h",
        `/www/${name}`,
      ]),
    );
  }
});

test.after.always(async () => {
  await mesh?.close();
});

const call = () =>
  mesh.weftOk([
    "exec",
    "front",
    "timeout",
    "10",
    "wget",
    "-q",
    "-O",
    "-",
    "http://127.0.0.1:8080/cgi-bin/call",
  ]);

interface ProxyRow {
  workload: string;
}

const proxies = async () =>
  ((await (await fetch(`${mesh.httpUrl}/api/v1/proxies`)).json()) as ProxyRow[])
    .map((p) => p.workload)
    .sort();

test.serial("sidecars keep serving while the control plane is down and resync when it is back", async (t) => {
  t.regex(await call(), /hello from back/);
  await waitFor("both sidecars connected", async () => ((await proxies()).length === 2 ? true : undefined));
  const before = await (await fetch(`${mesh.httpUrl}/api/v1/services`)).json();

  await mesh.controlPlane.kill();
  await t.throwsAsync(fetch(`${mesh.httpUrl}/api/v1/services`), undefined, "the control plane is down");
  for (let i = 0; i < 3; i++) t.regex(await call(), /hello from back/, "front still reaches back by name");

  await mesh.controlPlane.restart();
  t.deepEqual(await (await fetch(`${mesh.httpUrl}/api/v1/services`)).json(), before, "nothing was lost");
  const back = await waitFor(
    "both sidecars reconnected",
    async () => {
      const rows = await proxies();
      return rows.length === 2 ? rows : undefined;
    },
    30_000,
  );
  t.deepEqual(back, ["back", "front"]);
  const endpoints = (await (await fetch(`${mesh.httpUrl}/api/v1/services/back/endpoints`)).json()) as Array<{
    healthy: boolean;
    source: string;
  }>;
  t.is(endpoints.length, 1);
  t.like(endpoints[0], { healthy: true });
  t.regex(endpoints[0]!.source, /^daemon:/);
  t.regex(await call(), /hello from back/);
});
