// A whole Weft on one host for a test: a control plane and a daemon with their own state dirs, ports,
// unix sockets, bridge, subnet and cgroup parent. Teardown removes every container and the bridge even
// when the test failed.
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { hex, type LongRunning, type RunResult, startWeft, testDir, weft } from "./processes";

const exec = promisify(execFile);

export interface Mesh {
  dir: string;
  bridge: string;
  subnet: string;
  httpUrl: string;
  httpPort: number;
  /** Runs the CLI against this mesh's daemon and control plane. */
  weft(args: string[], timeoutMs?: number): Promise<RunResult>;
  /** Like weft(), but throws with stderr when the command fails. */
  weftOk(args: string[], timeoutMs?: number): Promise<string>;
  logs(): string;
  close(): Promise<void>;
}

export async function startMesh(): Promise<Mesh> {
  const dir = testDir();
  const id = hex(3);
  const bridge = `wtb${id}`;
  const subnet = `10.253.${Number.parseInt(id.slice(0, 2), 16)}.0/24`;
  const cpSocket = join(dir, "cp.sock");
  const daemonSocket = join(dir, "weft.sock");
  const started: LongRunning[] = [];
  let httpPort = 0;
  const env = { WEFT_HOST: `unix://${daemonSocket}`, WEFT_CONTROL_PLANE: "" };

  const run = (args: string[], timeoutMs?: number) => weft(args, env, timeoutMs);
  const close = async () => {
    const ps = await run(["ps", "-a", "--json"]).catch(() => undefined);
    if (ps?.code === 0) {
      for (const c of JSON.parse(ps.stdout) as Array<{ name?: string; Name?: string }>) {
        await run(["rm", "-f", String(c.name ?? c.Name)], 60_000);
      }
    }
    for (const p of started.reverse()) await p.stop();
    // Only this mesh's own objects: other meshes may be running in parallel test workers.
    for (const dir of ["-i", "-o"]) {
      await exec("iptables", ["-D", "FORWARD", dir, bridge, "-j", "ACCEPT"]).catch(() => undefined);
    }
    await exec("ip", ["link", "delete", bridge]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const cp = await startWeft(
      [
        "control-plane",
        ...["--data-dir", join(dir, "control-plane"), "--grpc-port", "0", "--http-port", "0"],
        ...["--grpc-socket", cpSocket],
      ],
      /control plane ready/,
    );
    started.push(cp);
    httpPort = Number(/http=[\d.]+:(\d+)/.exec(cp.readyLine)?.[1]);
    if (!httpPort) throw new Error(`no http port in "${cp.readyLine}"`);
    env.WEFT_CONTROL_PLANE = `http://127.0.0.1:${httpPort}`;
    const daemon = await startWeft(
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
          `unix://${cpSocket}`,
          "--node",
          `node-${id}`,
          "--cgroup-parent",
          `weft-test-${id}`,
        ],
      ],
      /weft daemon ready/,
    );
    started.push(daemon);
  } catch (err) {
    await close();
    throw err;
  }

  return {
    dir,
    bridge,
    subnet,
    httpPort,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    weft: run,
    async weftOk(args, timeoutMs) {
      const r = await run(args, timeoutMs);
      if (r.code !== 0) throw new Error(`weft ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    logs: () => started.map((p) => p.output()).join("\n"),
    close,
  };
}

/** Builds the hello-mesh example image into DIR and imports it into the mesh's daemon as NAME. */
export async function importExampleImage(mesh: Mesh, name: string): Promise<void> {
  const tar = join(mesh.dir, `${name.replace(/\W/g, "_")}.tar`);
  await exec("sh", [join(process.cwd(), "examples", "hello-mesh", "build-image.sh"), tar]);
  await mesh.weftOk(["image", "import", tar, name]);
}
