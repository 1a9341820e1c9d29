// In-memory parts for tests of the engine and the API: they record what exists (addresses, netns,
// mounts, sidecars, runc containers) so a test can assert that nothing is left, and any step can be
// told to fail.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SpecOptions } from "../oci/index";
import type { EngineParts, ImageInfo } from "./parts";
import type { ContainerState } from "./types";

export type FailPoint = "allocate" | "network" | "wire" | "sidecar" | "mount" | "spec" | "runc";

export class FakeSystem {
  readonly addresses = new Map<string, string>();
  readonly netns = new Set<string>();
  readonly mounts = new Set<string>();
  readonly sidecars = new Set<number>();
  readonly sidecarCgroups = new Set<string>();
  readonly runc = new Map<string, { status: string; pid: number; signals: string[]; exitFile: string }>();
  readonly registered: ContainerState[][] = [];
  /** `runc update` calls, in order. */
  readonly updates: Array<{ id: string; resources: object }> = [];
  readonly images = new Map<string, ImageInfo>();
  /** Every signal sent to each container, kept after runc forgets it. */
  readonly signals = new Map<string, string[]>();
  /** Cgroup paths whose app the "kernel" OOM-killed. */
  readonly oomKilled = new Set<string>();
  /** Network wired, sidecar started and app started, in the order they happened ("wired ID" etc.). */
  readonly steps: string[] = [];
  /** Every SpecOptions buildSpec was given, in order. */
  readonly specs: SpecOptions[] = [];
  private cpuNs = 0;
  failAt?: FailPoint;
  /** When set, the app ignores SIGTERM (to test the SIGKILL path). */
  ignoreSigterm = false;
  private nextPid = 1000;
  private nextIp = 2;

  constructor() {
    this.images.set("busybox", {
      name: "busybox",
      id: "sha256:feed",
      rootfs: "/nonexistent/rootfs",
      layers: ["/nonexistent/rootfs"],
      diffIds: [],
      created: new Date(0).toISOString(),
      sizeBytes: 1,
      config: { env: [], cmd: ["sh"], entrypoint: [], workdir: "/", user: "", exposedPorts: [], labels: {} },
    });
  }

  private fail(point: FailPoint): void {
    if (this.failAt === point) throw new Error(`injected failure at ${point}`);
  }

  /** The app ends by itself with this code: the "monitor" writes its exit file. */
  exitApp(id: string, code: number): void {
    const c = this.runc.get(id);
    if (!c || c.status === "stopped") return;
    c.status = "stopped";
    writeFileSync(c.exitFile, String(code));
  }

  /** The sidecar process dies (as a crash would). */
  crashSidecar(pid: number): void {
    this.sidecars.delete(pid);
  }

  /** Counts of every kernel-ish object the fakes hold. */
  leftovers(): Record<string, number> {
    return {
      addresses: this.addresses.size,
      netns: this.netns.size,
      mounts: this.mounts.size,
      sidecars: this.sidecars.size,
      sidecarCgroups: this.sidecarCgroups.size,
      runc: this.runc.size,
    };
  }

  parts(stateDir: string): EngineParts {
    return {
      stateDir,
      cgroupParent: "weft-test",
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      clock: { now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))) },
      images: {
        get: (name) => {
          const image = this.images.get(name);
          if (!image) {
            throw Object.assign(new Error(`image "${name}" not found; import it with 'weft image import'`), {
              code: "IMAGE_NOT_FOUND",
            });
          }
          return image;
        },
        list: () => [...this.images.values()],
        import: async (_tar, name) => {
          const image = { ...this.images.get("busybox")!, name };
          this.images.set(name, image);
          return image;
        },
        remove: async (name) => {
          if (!this.images.delete(name))
            throw Object.assign(new Error("not found"), { code: "IMAGE_NOT_FOUND" });
        },
        tag: async (source, target) => {
          const image = this.images.get(source);
          if (!image) throw Object.assign(new Error("not found"), { code: "IMAGE_NOT_FOUND" });
          const tagged = { ...image, name: target };
          this.images.set(target, tagged);
          return tagged;
        },
        scratchDir: () => mkdtempSync(join(tmpdir(), "weft-fake-scratch-")),
        layerBytes: () => 0,
        // What the real store keeps of a commit: the base's layers plus one, and the new config.
        commit: async (name, o) => {
          const image = {
            ...o.base,
            name,
            id: createHash("sha256").update(`${name}${Date.now()}${Math.random()}`).digest("hex"),
            diffIds: [...o.base.diffIds, `sha256:${"0".repeat(64)}`],
            config: o.config,
          };
          this.images.set(name, image);
          return image;
        },
      },
      network: {
        gateway: () => "10.9.0.1",
        info: () => ({ bridge: "weft-fake0", subnet: "10.9.0.0/24", gateway: "10.9.0.1", prefixLength: 24 }),
        allocate: (owner) => {
          this.fail("allocate");
          const ip = this.addresses.get(owner) ?? `10.9.0.${this.nextIp++}`;
          this.addresses.set(owner, ip);
          return ip;
        },
        release: (owner) => void this.addresses.delete(owner),
        names: (id) => {
          const netns = `weft-${id.slice(0, 12)}`;
          return { netns, netnsPath: `/var/run/netns/${netns}`, hostVeth: `wv${id.slice(0, 10)}` };
        },
        create: async (id) => {
          this.fail("network");
          const netns = `weft-${id.slice(0, 12)}`;
          this.netns.add(netns);
          // Wired a little later than the netns exists; a failure there removes it.
          await new Promise((resolve) => setTimeout(resolve, 10));
          if (this.failAt === "wire") {
            this.netns.delete(netns);
            throw new Error("injected failure at wire");
          }
          this.steps.push(`wired ${id}`);
          return { netns, netnsPath: `/var/run/netns/${netns}`, hostVeth: `wv${id.slice(0, 10)}` };
        },
        destroy: async (netns) => void this.netns.delete(netns),
        counters: async () => ({ rxBytes: 2000, txBytes: 1000 }),
      },
      cgroups: {
        resources: (limits) => ({ limits }),
        remove: async () => {},
        usage: async () => {
          this.cpuNs += 250_000_000;
          return { memoryBytes: 8 * 1024 * 1024, pids: 2, cpuUsageNs: this.cpuNs };
        },
        oomKills: async (path) => (this.oomKilled.has(path) ? 1 : 0),
      },
      rootfs: {
        mountOverlay: async (o) => {
          this.fail("mount");
          this.mounts.add(o.target);
        },
        unmount: async (target) => void this.mounts.delete(target),
        isMounted: (target) => this.mounts.has(target),
        buildSpec: (o) => {
          this.fail("spec");
          this.specs.push(o);
          return { ociVersion: "1.0.2", process: { args: o.args } };
        },
        seccomp: (caps, profile) => ({
          defaultAction: "SCMP_ACT_ERRNO",
          architectures: [],
          syscalls: [{ names: [profile, ...caps], action: "SCMP_ACT_ALLOW" }],
        }),
      },
      runc: {
        create: async (o) => {
          this.fail("runc");
          const pid = this.nextPid++;
          mkdirSync(o.exitDir, { recursive: true });
          this.runc.set(o.id, { status: "created", pid, signals: [], exitFile: join(o.exitDir, o.id) });
          return pid;
        },
        start: async (id) => {
          const c = this.runc.get(id);
          if (!c) throw new Error("container does not exist");
          this.steps.push(`start ${id}`);
          c.status = "running";
        },
        state: async (id) => this.runc.get(id),
        list: async () => [...this.runc].map(([id, c]) => ({ id, status: c.status, pid: c.pid })),
        kill: async (id, signal) => {
          const c = this.runc.get(id);
          if (!c) throw new Error("container does not exist");
          c.signals.push(signal);
          this.signals.set(id, [...(this.signals.get(id) ?? []), signal]);
          if (signal === "SIGKILL") this.exitApp(id, 137);
          else if (!this.ignoreSigterm) this.exitApp(id, 143);
        },
        pause: async (id) => {
          const c = this.runc.get(id);
          if (c?.status !== "running") throw new Error(`container ${id} is not running`);
          c.status = "paused";
        },
        resume: async (id) => {
          const c = this.runc.get(id);
          if (c?.status !== "paused") throw new Error(`container ${id} is not paused`);
          c.status = "running";
        },
        update: async (id, resources) => {
          if (!this.runc.has(id)) throw new Error(`container ${id} does not exist`);
          this.updates.push({ id, resources });
        },
        delete: async (id) => void this.runc.delete(id),
        exec: (_id, args): ChildProcess => spawn(args[0]!, args.slice(1)),
      },
      injector: {
        start: async (o) => {
          this.fail("sidecar");
          this.steps.push(`sidecar ${o.id}`);
          const pid = this.nextPid++;
          this.sidecars.add(pid);
          this.sidecarCgroups.add(`/weft-test/${o.id}-sidecar`);
          return { pid, cgroupPath: `/weft-test/${o.id}-sidecar` };
        },
        stop: async (pid) => {
          if (pid !== undefined) this.sidecars.delete(pid);
        },
        cleanup: async (path) => void this.sidecarCgroups.delete(path),
        alive: (pid) => this.sidecars.has(pid),
      },
      registrar: { update: (containers) => this.registered.push(containers.map((c) => ({ ...c }))) },
    };
  }
}
