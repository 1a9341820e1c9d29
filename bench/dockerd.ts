// A private Docker daemon for the benches: its own data root, exec root, socket, pidfile, config file
// and cgroup parent under one temp dir, started with no firewall, forwarding or bridge changes
// (--iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none), so its
// containers run with --network none. stop() removes its containers, stops it and the containerd it
// started, unmounts whatever it left under the temp dir and removes the dir and its cgroups.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { hex } from "../test/support/processes";

/** The Engine API version Debian's docker.io (20.10) speaks; every call names it. */
export const API = "/v1.41";

export interface PrivateDockerd {
  dir: string;
  socket: string;
  /** "dockerd 20.10.24, storage overlay2, runtime runc" */
  describe: string;
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Imports a rootfs tarball as IMAGE (POST /images/create?fromSrc=-, the API of `docker import`). */
  importRootfs(tarball: string, image: string): Promise<void>;
  stop(): Promise<void>;
}

/** dockerd on PATH or in the sbin dirs, undefined when Docker's daemon is not installed. */
export function findDockerd(): string | undefined {
  for (const d of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/bin", "/sbin"]) {
    if (d && existsSync(join(d, "dockerd"))) return join(d, "dockerd");
  }
  return undefined;
}

function call<T>(socketPath: string, method: string, path: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: `${API}${path}`, method, agent: false }, (res) => {
      let text = "";
      res.on("data", (c) => {
        text += c;
      });
      res.on("end", () => {
        if ((res.statusCode ?? 500) >= 300)
          reject(new Error(`docker ${method} ${path}: ${res.statusCode} ${text}`));
        else resolve((text ? JSON.parse(text) : {}) as T);
      });
    });
    req.on("error", reject);
    if (body !== undefined) req.setHeader("content-type", "application/json");
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts dockerd and resolves once its API answers /_ping; throws with its log when it does not. */
export async function startPrivateDockerd(dockerd: string): Promise<PrivateDockerd> {
  // Under /tmp like the mesh's test dir (the same filesystem for both daemons' layers), short enough
  // for the unix socket paths containerd makes below it.
  const dir = mkdtempSync("/tmp/wt-dockerd-");
  const socket = join(dir, "docker.sock");
  const cgroupParent = `wt-bench-docker-${hex(3)}`;
  writeFileSync(join(dir, "daemon.json"), "{}\n"); // never the host's /etc/docker/daemon.json
  // dockerd 20.10 writes its trust key to /etc/docker/key.json whatever its config says: removed at
  // stop when this run made it.
  const keyMadeHere = !existsSync("/etc/docker/key.json");
  const log = openSync(join(dir, "dockerd.log"), "a");
  const child: ChildProcess = spawn(
    dockerd,
    [
      ...["--data-root", join(dir, "data"), "--exec-root", join(dir, "exec")],
      ...["-H", `unix://${socket}`, "--pidfile", join(dir, "dockerd.pid")],
      ...["--config-file", join(dir, "daemon.json"), "--cgroup-parent", `/${cgroupParent}`],
      ...["--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false"],
      ...["--bridge=none", "--userland-proxy=false"],
    ],
    { stdio: ["ignore", log, log] },
  );
  closeSync(log); // dockerd holds its own copy
  const killOnExit = () => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const dockerLog = () => readFileSync(join(dir, "dockerd.log"), "utf8").split("\n").slice(-30).join("\n");

  const stop = async () => {
    try {
      const all = await call<Array<{ Id: string }>>(socket, "GET", "/containers/json?all=1");
      for (const c of all) await call(socket, "DELETE", `/containers/${c.Id}?force=1`);
    } catch {
      // Not answering: it is stopped below all the same.
    }
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM"); // dockerd stops the containerd it started on its way out
      await Promise.race([exited, sleep(20_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    process.off("exit", killOnExit);
    // A containerd (or shim) that outlived dockerd: found by its state dir under ours, killed by pid.
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir)) process.kill(Number(pid), "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    // Mounts left under the dir (overlay layers, netns bind mounts), deepest first.
    const mounts = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[4] ?? "")
      .filter((m) => m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) {
      try {
        execFileSync("umount", ["-l", m], { stdio: "ignore" });
      } catch {
        // Already gone with its parent mount.
      }
    }
    rmSync(dir, { recursive: true, force: true });
    if (keyMadeHere) rmSync("/etc/docker/key.json", { force: true });
    execFileSync("sh", [
      "-c",
      `for d in /sys/fs/cgroup/*/${cgroupParent} /sys/fs/cgroup/${cgroupParent}; do [ -d "$d" ] && rmdir "$d"; done; true`,
    ]);
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const req = request({ socketPath: socket, path: "/_ping", agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
      req.end();
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      const text = dockerLog();
      await stop();
      throw new Error(
        `dockerd did not start (its log follows); is another dockerd using the kernel?\n${text}`,
      );
    }
    await sleep(100);
  }
  const info = await call<{ ServerVersion: string; Driver: string; DefaultRuntime: string }>(
    socket,
    "GET",
    "/info",
  );
  return {
    dir,
    socket,
    describe: `dockerd ${info.ServerVersion}, storage ${info.Driver}, runtime ${info.DefaultRuntime}`,
    api: (method, path, body) => call(socket, method, path, body),
    importRootfs: (tarball, image) =>
      new Promise((resolve, reject) => {
        const [repo, tag] = image.split(":");
        const path = `${API}/images/create?fromSrc=-&repo=${repo}&tag=${tag ?? "latest"}`;
        const req = request({ socketPath: socket, path, method: "POST", agent: false }, (res) => {
          let text = "";
          res.on("data", (c) => {
            text += c;
          });
          // The status is 200 even when the import fails: the error is in the streamed JSON.
          res.on("end", () =>
            res.statusCode === 200 && !text.includes('"error"') ? resolve() : reject(new Error(text)),
          );
        });
        req.on("error", reject);
        req.setHeader("content-type", "application/x-tar");
        createReadStream(tarball).pipe(req);
      }),
    stop,
  };
}

export type EngineApi = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/**
 * `docker run -d` at an Engine API (create, then start: what the CLI sends) with BODY, timed from the
 * create request to the start's 204, `runs` times; each container is removed after its run.
 */
export async function timeEngineRuns(
  api: EngineApi,
  body: object,
  runs: number,
  progress: (done: number) => void,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const made = await api<{ Id: string }>("POST", `/containers/create?name=wtbench${i}`, body);
    await api("POST", `/containers/${made.Id}/start`);
    times.push(performance.now() - t0);
    await api("DELETE", `/containers/${made.Id}?force=1`);
    progress(i + 1);
  }
  return times;
}
