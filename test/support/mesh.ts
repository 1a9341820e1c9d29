// A whole Weft on one host for a test: a control plane and a daemon with their own state dirs, ports,
// unix sockets, bridge, subnet and cgroup parent. Teardown removes every container and the bridge even
// when the test failed. The control plane can be SIGKILLed and restarted on the same ports and socket.
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { freeTestSubnet } from "../../runtime/src/network/testing";
import { type ControlPlaneProcess, startControlPlaneProcess } from "./control-plane";
import { hex, type LongRunning, type RunResult, startWeft, testDir, weft } from "./processes";

const exec = promisify(execFile);

export interface Mesh {
  dir: string;
  bridge: string;
  subnet: string;
  httpUrl: string;
  httpPort: number;
  /** The control plane process: kill() and restart() keep its ports, socket and data dir. */
  controlPlane: ControlPlaneProcess;
  /** Runs the CLI against this mesh's daemon and control plane. */
  weft(args: string[], timeoutMs?: number): Promise<RunResult>;
  /** Like weft(), but throws with stderr when the command fails. */
  weftOk(args: string[], timeoutMs?: number): Promise<string>;
  logs(): string;
  close(): Promise<void>;
}

export interface MeshOptions {
  /** The control plane's --token, as WEFT_TOKEN for it, the daemon (and so each sidecar) and the CLI. */
  token?: string;
}

export async function startMesh(o: MeshOptions = {}): Promise<Mesh> {
  const dir = testDir();
  const id = hex(3);
  const bridge = `wtb${id}`;
  const subnet = await freeTestSubnet("10.253");
  const daemonSocket = join(dir, "weft.sock");
  const tokenEnv: Record<string, string> = o.token ? { WEFT_TOKEN: o.token } : {};
  const env = { WEFT_HOST: `unix://${daemonSocket}`, WEFT_CONTROL_PLANE: "", ...tokenEnv };
  const run = (args: string[], timeoutMs?: number) => weft(args, env, timeoutMs);
  let cp: ControlPlaneProcess | undefined;
  let daemon: LongRunning | undefined;

  const close = async () => {
    const ps = await run(["ps", "-a", "--json"]).catch(() => undefined);
    if (ps?.code === 0) {
      for (const c of JSON.parse(ps.stdout) as Array<{ name: string }>) {
        await run(["rm", "-f", c.name], 60_000);
      }
    }
    await daemon?.stop();
    await cp?.close();
    // Only this mesh's own objects: other meshes may be running in parallel test workers.
    for (const side of ["-i", "-o"]) {
      await exec("iptables", ["-D", "FORWARD", side, bridge, "-j", "ACCEPT"]).catch(() => undefined);
    }
    await exec("ip", ["link", "delete", bridge]).catch(() => undefined);
    // The daemon leaves its (empty) cgroup parent in place; it is this mesh's, so remove it.
    await exec("sh", [
      "-c",
      `rmdir /sys/fs/cgroup/*/weft-test-${id} /sys/fs/cgroup/weft-test-${id} 2>/dev/null; true`,
    ]);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    cp = await startControlPlaneProcess({ dir, env: tokenEnv });
    env.WEFT_CONTROL_PLANE = cp.httpUrl;
    daemon = await startWeft(
      [
        "daemon",
        ...["--state-dir", join(dir, "state"), "--socket", daemonSocket],
        ...["--bridge", bridge, "--subnet", subnet, "--control-plane", `unix://${cp.socketPath}`],
        ...["--node", `node-${id}`, "--cgroup-parent", `weft-test-${id}`],
      ],
      /weft daemon ready/,
      30_000,
      tokenEnv,
    );
  } catch (err) {
    await close();
    throw err;
  }
  const controlPlane = cp;
  return {
    dir,
    bridge,
    subnet,
    httpPort: controlPlane.httpPort,
    httpUrl: controlPlane.httpUrl,
    controlPlane,
    weft: run,
    async weftOk(args, timeoutMs) {
      const r = await run(args, timeoutMs);
      if (r.code !== 0) throw new Error(`weft ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    logs: () => [controlPlane.output(), daemon?.output() ?? ""].join("\n"),
    close,
  };
}

/** Builds the hello-mesh example image offline and imports it into the mesh's daemon as NAME. */
export async function importExampleImage(mesh: Mesh, name: string): Promise<void> {
  const spec = join(process.cwd(), "examples", "hello-mesh", "image.yaml");
  await mesh.weftOk(["image", "build", "-f", spec, "--tag", name], 120_000);
}
