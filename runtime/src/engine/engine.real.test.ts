import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { EngineClient } from "../api/client";
import { type Daemon, startDaemon } from "../daemon";
import { freeTestSubnet } from "../network/testing";
import { busyboxTarball, cgroupDirs, removeDaemonLeftovers, sh } from "./real-daemon.testing";
import type { ContainerState, ExecResult } from "./types";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

test("run, ps, exec, logs, a daemon restart, stop and rm on the real system leave nothing behind", async (t) => {
  const suffix = randomBytes(4).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), "weft-real-"));
  const stateDir = join(dir, "state");
  const socket = join(dir, "run", "weft.sock");
  const bridge = `wtb${suffix}`;
  const cgroupParent = `weft-test-${suffix}`;
  const options = {
    stateDir,
    socket,
    bridge,
    subnet: await freeTestSubnet("10.252"),
    controlPlane: `unix://${join(dir, "no-control-plane.sock")}`,
    node: "test-node",
    cgroupParent,
    distDir: join(dir, "no-dist"),
    logger: quiet,
  };
  const runcRoot = join(stateDir, "runc");
  let daemon: Daemon | undefined;
  t.teardown(async () => {
    await daemon?.close();
    await removeDaemonLeftovers({ stateDir, bridge, cgroupParent });
    rmSync(dir, { recursive: true, force: true });
  });

  t.log(`bridge ${bridge}, cgroup parent ${cgroupParent}, state ${stateDir}`);
  daemon = await startDaemon(options);
  const client = new EngineClient(socket);
  await client.call("POST", "/images/import?name=busybox", { path: busyboxTarball(dir) });

  const created = await client.json<ContainerState>("POST", "/containers/create?name=sleeper", {
    image: "busybox",
    cmd: ["sh", "-c", "echo hello from the app; echo oops >&2; exec sleep 300"],
    sidecar: false,
    memoryBytes: 64 * 1024 * 1024,
    pids: 100,
  });
  const id = created.id;
  const hostVeth = created.hostVeth;
  // An address of the daemon's subnet (a /24 claimed for this test), not the gateway's.
  const prefix = options.subnet.replace(/\.0\/24$/, ".");
  t.true(created.address.startsWith(prefix) && created.address !== `${prefix}1`, created.address);

  const ps = await client.json<ContainerState[]>("GET", "/containers/json");
  t.deepEqual(
    ps.map((c) => [c.name, c.status]),
    [["sleeper", "running"]],
  );
  t.true(sh("ip", ["netns", "list"]).includes(created.netns));
  t.is(
    cgroupDirs(`${cgroupParent}/${id}`).length > 0,
    true,
    "the app runs in its own cgroup under the parent",
  );

  const hostnameOut = await client.json<ExecResult>("POST", "/containers/sleeper/exec", {
    cmd: ["hostname"],
  });
  t.deepEqual(hostnameOut, { exitCode: 0, stdout: "sleeper\n", stderr: "" });
  const resolv = await client.json<ExecResult>("POST", "/containers/sleeper/exec", {
    cmd: ["cat", "/etc/resolv.conf"],
  });
  t.regex(resolv.stdout, new RegExp(`nameserver ${created.gateway.replace(/\./g, "\\.")}`));
  const failing = await client.json<ExecResult>("POST", "/containers/sleeper/exec", {
    cmd: ["sh", "-c", "exit 7"],
  });
  t.is(failing.exitCode, 7);

  const logs = (await client.call("GET", "/containers/sleeper/logs?stdout=1&stderr=1")).body;
  t.regex(logs, /hello from the app/);
  t.regex(logs, /oops/);

  // A restarted daemon finds the running container again.
  await daemon.close();
  daemon = undefined;
  daemon = await startDaemon(options);
  const adopted = await client.json<ContainerState>("GET", "/containers/sleeper/json");
  t.is(adopted.status, "running");

  // sleep is PID 1 and ignores SIGTERM: stop has to fall back to SIGKILL after the grace period.
  await client.call("POST", "/containers/sleeper/stop?t=1");
  t.is((await client.json<ContainerState>("GET", "/containers/sleeper/json")).status, "exited");
  t.deepEqual(await client.json("GET", "/containers/json"), []);

  await client.call("DELETE", "/containers/sleeper");
  t.deepEqual(await client.json("GET", "/containers/json?all=1"), []);
  t.false(sh("ip", ["netns", "list"]).includes(created.netns), "netns removed");
  t.false(sh("ip", ["-o", "link"]).includes(hostVeth), "veth removed");
  t.false(sh("findmnt", ["-rn", "-o", "TARGET"]).includes(id), "rootfs unmounted");
  t.deepEqual(cgroupDirs(`${cgroupParent}/${id}`), [], "cgroups removed");
  t.is(sh("runc", ["--root", runcRoot, "list", "-q"]).trim(), "", "runc has no container");
  t.false(existsSync(join(stateDir, "containers", id)), "state dir removed");
});
