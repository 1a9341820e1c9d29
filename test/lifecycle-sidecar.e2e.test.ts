// Sidecar supervision end to end: a sidecar that dies while its app runs leaves the workload failing
// closed (the redirect rules stay, nothing listens on the capture port: connections are refused, never
// passed to the app around the mesh), and the daemon starts it again. The daemon is frozen (SIGSTOP)
// while the sidecar is down, so the test sees the gap without racing the restart.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { get } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import test from "ava";
import { importExampleImage, type Mesh, startMesh } from "./support/mesh";
import { waitFor } from "./support/processes";

let mesh: Mesh;

test.before(async () => {
  mesh = await startMesh();
  await importExampleImage(mesh, "hello-mesh");
});

test.after.always(async () => {
  await mesh?.close();
});

interface Row {
  name: string;
  address: string;
  netns: string;
  sidecarPid?: number;
  status: string;
}

async function inspect(name: string): Promise<Row> {
  return JSON.parse(await mesh.weftOk(["inspect", name])) as Row;
}

/** The daemon of this mesh: the process whose command line names the mesh's socket. */
function daemonPid(): number {
  const socket = join(mesh.dir, "weft.sock");
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if (argv.includes("daemon") && argv.includes(socket)) return Number(p);
    } catch {
      // gone
    }
  }
  throw new Error(`no daemon process with --socket ${socket}`);
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}

function connectError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 5000 });
    s.once("connect", () => {
      s.destroy();
      resolve("connected");
    });
    s.once("timeout", () => {
      s.destroy();
      resolve("timeout");
    });
    s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

test("a crashed sidecar fails closed, then is restarted and traffic flows again", async (t) => {
  await mesh.weftOk(
    ["run", "-d", "--name", "srv", "--service", "srv", "--port", "8080/http"].concat([
      "hello-mesh",
      "httpd",
      "-f",
      "-p",
      "8080",
      "-h",
      "/www/back",
    ]),
  );
  const before = await inspect("srv");
  const url = `http://${before.address}:8080/`;
  t.is(
    await waitFor("srv through its sidecar", async () =>
      (await httpStatus(url).catch(() => undefined)) === 200 ? 200 : undefined,
    ),
    200,
  );

  const daemon = daemonPid();
  process.kill(daemon, "SIGSTOP");
  try {
    process.kill(before.sidecarPid!, "SIGKILL");
    // Gone means its capture port is closed: a killed process's leader shows as a zombie while its
    // other threads still hold its sockets, and a listener still completes handshakes meanwhile.
    await waitFor("the sidecar's capture port to close", async () => {
      const listening = execFileSync("ip", ["netns", "exec", before.netns, "ss", "-Hltn", "sport = :15006"]);
      return listening.toString().trim() === "" ? true : undefined;
    });
    // The app still listens on 8080, but the capture sends the connection to the dead sidecar's port.
    t.is(await connectError(before.address, 8080), "ECONNREFUSED");
  } finally {
    process.kill(daemon, "SIGCONT");
  }
  const after = await waitFor("a new sidecar", async () => {
    const row = await inspect("srv");
    return row.sidecarPid !== undefined && row.sidecarPid !== before.sidecarPid ? row : undefined;
  });
  t.is(after.status, "running");
  t.is(
    await waitFor("traffic again", async () =>
      (await httpStatus(url).catch(() => undefined)) === 200 ? 200 : undefined,
    ),
    200,
  );
  const events = await mesh.weftOk(["events", "--since", "5m", "--until", "0s", "--container", "srv"]);
  t.regex(events, /container sidecar_restart /);
});
