// startMesh() with a control plane the test can SIGKILL and start again on the same ports, socket and
// data dir (test/support/control-plane.ts), to check that sidecars keep serving while it is down and
// that the daemon and sidecars resync when it is back.
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { type ControlPlaneProcess, startControlPlaneProcess } from "./control-plane";
import type { Mesh } from "./mesh";
import { hex, type LongRunning, startWeft, testDir, weft } from "./processes";

const exec = promisify(execFile);

export interface RestartableMesh extends Mesh {
  controlPlane: ControlPlaneProcess;
}

export async function startRestartableMesh(): Promise<RestartableMesh> {
  const dir = testDir();
  const id = hex(3);
  const bridge = `wtb${id}`;
  const subnet = `10.253.${Number.parseInt(id.slice(0, 2), 16)}.0/24`;
  const daemonSocket = join(dir, "weft.sock");
  const env = { WEFT_HOST: `unix://${daemonSocket}`, WEFT_CONTROL_PLANE: "" };
  const run = (args: string[], timeoutMs?: number) => weft(args, env, timeoutMs);
  let cp: ControlPlaneProcess | undefined;
  let daemon: LongRunning | undefined;

  const close = async () => {
    const ps = await run(["ps", "-a", "--json"]).catch(() => undefined);
    if (ps?.code === 0) {
      for (const c of JSON.parse(ps.stdout) as Array<{ name?: string; Name?: string }>) {
        await run(["rm", "-f", String(c.name ?? c.Name)], 60_000);
      }
    }
    await daemon?.stop();
    await cp?.close();
    // Only this mesh's bridge: scripts/sweep.sh would also tear down meshes of tests running in parallel.
    for (const dir of ["-i", "-o"]) {
      await exec("iptables", ["-D", "FORWARD", dir, bridge, "-j", "ACCEPT"]).catch(() => undefined);
    }
    await exec("ip", ["link", "delete", bridge]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    cp = await startControlPlaneProcess({ dir });
    env.WEFT_CONTROL_PLANE = cp.httpUrl;
    daemon = await startWeft(
      [
        "daemon",
        ...[
          "--state-dir",
          join(dir, "state"),
          "--socket",
          daemonSocket,
          "--bridge",
          bridge,
          "--subnet",
          subnet,
        ],
        ...[
          "--control-plane",
          `unix://${cp.socketPath}`,
          "--node",
          `node-${id}`,
          "--cgroup-parent",
          `weft-test-${id}`,
        ],
      ],
      /weft daemon ready/,
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
