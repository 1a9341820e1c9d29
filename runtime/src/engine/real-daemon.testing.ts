// A daemon on the real system for tests (bridge, netns, overlay, cgroups, runc), with its own
// names, and a sweep that removes everything it made even when a test failed half-way.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngineClient } from "../api/client";
import { type Daemon, startDaemon } from "../daemon";
import { removeBridge } from "../network/index";
import { freeTestSubnet } from "../network/testing";
import type { ContainerState, ExecResult } from "./types";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

export function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch {
    return "";
  }
}

const APPLETS = [
  "sh",
  "sleep",
  "cat",
  "echo",
  "hostname",
  "ls",
  "id",
  "pwd",
  "ping",
  "swapon",
  "touch",
  "tail",
  "mount",
  "umount",
  "unshare",
  "dd",
  "true",
  "stat",
  "rm",
];

/** A rootfs tarball of busybox-static with the applets the tests use and a user "app" (1000:1000). */
export function busyboxTarball(dir: string): string {
  const src = join(dir, "rootfs-src");
  for (const d of ["bin", "etc", "proc", "sys", "dev", "tmp", "mnt"])
    mkdirSync(join(src, d), { recursive: true });
  copyFileSync("/bin/busybox", join(src, "bin", "busybox"));
  for (const applet of APPLETS) symlinkSync("busybox", join(src, "bin", applet));
  writeFileSync(
    join(src, "etc", "passwd"),
    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
  );
  writeFileSync(join(src, "etc", "group"), "root:x:0:\napp:x:1000:\nstaff:x:50:\n");
  const out = join(dir, "busybox.tar");
  execFileSync("tar", ["-C", src, "-cf", out, "."]);
  return out;
}

/**
 * Removes what a test daemon may have left, whatever state it died in: runc containers under its
 * runc root, mounts under its state dir, its containers' netns, its bridge, its cgroup parent.
 */
export async function removeDaemonLeftovers(o: { stateDir: string; bridge: string; cgroupParent: string }) {
  const runcRoot = join(o.stateDir, "runc");
  for (const id of sh("runc", ["--root", runcRoot, "list", "-q"]).split("\n").filter(Boolean)) {
    sh("runc", ["--root", runcRoot, "delete", "-f", id]);
  }
  for (const m of sh("findmnt", ["-rn", "-o", "TARGET"])
    .split("\n")
    .filter((l) => l.startsWith(o.stateDir))
    .reverse()) {
    sh("umount", ["-l", m]);
  }
  const containers = join(o.stateDir, "containers");
  const ids = existsSync(containers) ? readdirSync(containers) : [];
  for (const ns of sh("ip", ["netns", "list"]).split("\n")) {
    const name = ns.split(" ")[0] ?? "";
    if (name && ids.some((id) => name === `weft-${id.slice(0, 12)}`)) sh("ip", ["netns", "delete", name]);
  }
  await removeBridge(o.bridge).catch(() => undefined);
  for (const p of cgroupDirs(o.cgroupParent)) {
    for (const child of readdirSync(p, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      try {
        rmdirSync(join(p, child.name));
      } catch {
        // Busy: the sweep in .ci/run removes it.
      }
    }
    try {
      rmdirSync(p);
    } catch {
      // As above.
    }
  }
}

export function cgroupDirs(path: string): string[] {
  return readdirSync("/sys/fs/cgroup")
    .map((c) => join("/sys/fs/cgroup", c, path))
    .filter((p) => existsSync(p));
}

export interface RealDaemon {
  client: EngineClient;
  dir: string;
  stateDir: string;
  cgroupParent: string;
  /** Creates a container without a sidecar; `body` is the API body (image defaults to busybox). */
  run(body: Record<string, unknown>): Promise<ContainerState>;
  exec(name: string, cmd: string[]): Promise<ExecResult>;
  /** Polls until `check` returns a value (not undefined), or throws after `timeoutMs` naming `what`. */
  until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function startRealDaemon(): Promise<RealDaemon> {
  const suffix = randomBytes(4).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), "weft-iso-"));
  // Traversable, as /var/lib is: under --userns=auto runc works as an unprivileged host uid.
  chmodSync(dir, 0o711);
  const stateDir = join(dir, "state");
  const socket = join(dir, "run", "weft.sock");
  const bridge = `wtb${suffix}`;
  const cgroupParent = `weft-test-${suffix}`;
  let daemon: Daemon | undefined;
  let client: EngineClient | undefined;
  const close = async () => {
    // Through the API first, as a user would; the sweep below catches what that leaves.
    const all = await client?.json<ContainerState[]>("GET", "/containers/json?all=1").catch(() => []);
    for (const c of all ?? [])
      await client?.call("DELETE", `/containers/${c.id}?force=1`).catch(() => undefined);
    await daemon?.close();
    await removeDaemonLeftovers({ stateDir, bridge, cgroupParent });
    // A reconcile pass that was under way when the daemon closed may still write a state file.
    for (let i = 0; i < 5; i++) {
      rmSync(dir, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  try {
    daemon = await startDaemon({
      stateDir,
      socket,
      bridge,
      subnet: await freeTestSubnet("10.251"),
      controlPlane: `unix://${join(dir, "no-control-plane.sock")}`,
      node: "test-node",
      cgroupParent,
      distDir: join(dir, "no-dist"),
      logger: quiet,
    });
    const api = new EngineClient(socket);
    client = api;
    await api.call("POST", "/images/import?name=busybox", { path: busyboxTarball(dir) });
    const until = async <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await check();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    return {
      client: api,
      dir,
      stateDir,
      cgroupParent,
      run: (body) =>
        api.json<ContainerState>("POST", "/containers/create", {
          image: "busybox",
          sidecar: false,
          ...body,
        }),
      exec: (name, cmd) => api.json<ExecResult>("POST", `/containers/${name}/exec`, { cmd }),
      until,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
