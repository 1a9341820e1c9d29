// The real parts: binds the network, cgroups, image and oci modules (and the sidecar's interception
// rules) into the shapes the engine takes, for one daemon's configuration.
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { interceptFromLabels, redirectRules } from "../../../sidecar/src/index";
import {
  addProcess,
  type CgroupLayout,
  createCgroup,
  detectCgroupLayout,
  ociResources,
  readOomKills,
  readUsage,
  removeCgroup,
} from "../cgroups/index";
import { ImageStore, mountOverlay, unmount } from "../image/index";
import { SidecarInjector } from "../inject/injector";
import {
  applyIptables,
  type BridgeInfo,
  createWorkloadNetwork,
  destroyWorkloadNetwork,
  Ipam,
  netnsPath,
  workloadNames,
} from "../network/index";
import { openAttachStdin, socatAvailable } from "../oci/attach-stdin";
import { Conmon, resizeConsole } from "../oci/conmon";
import { startThroughExecFifo } from "../oci/exec-fifo";
import { buildSpec, defaultSeccomp, Runc, readSeccompProfile, seccompFor } from "../oci/index";
import type { Clock, EngineParts, Logger, RegistrarPart } from "./parts";
import { readVethCounters } from "./stats";

export interface WiringOptions {
  stateDir: string;
  bridge: BridgeInfo;
  cgroupParent: string;
  controlPlane: string;
  /** The control plane's token, handed to each sidecar (WEFT_TOKEN in its environment). */
  token?: string;
  /** Where the sidecar bundle is (packageRoot()/dist). */
  distDir: string;
  registrar: RegistrarPart;
  clock: Clock;
  logger: Logger;
  /** The monitor truncates an app's log past this size (--log-max-size); default no limit. */
  logMaxSizeBytes?: number;
  health?: EngineParts["health"];
  ports?: EngineParts["ports"];
  /** Default: read from /proc/self/mountinfo. */
  cgroupLayout?: CgroupLayout;
}

export function realParts(o: WiringOptions): EngineParts {
  const layout = o.cgroupLayout ?? detectCgroupLayout();
  const ipam = new Ipam(join(o.stateDir, "ipam.json"), o.bridge.subnet);
  const runcRoot = join(o.stateDir, "runc");
  const runc = new Runc({ root: runcRoot });
  const conmon = new Conmon({ runcRoot });
  const images = new ImageStore(join(o.stateDir, "images"));
  for (const left of images.sweepLeftovers())
    o.logger.warn(`removed ${left}, left by an interrupted image operation`);
  return {
    stateDir: o.stateDir,
    cgroupParent: o.cgroupParent,
    clock: o.clock,
    logger: o.logger,
    images,
    network: {
      gateway: () => o.bridge.gateway,
      info: () => o.bridge,
      allocate: (owner) => ipam.allocate(owner),
      release: (owner) => ipam.release(owner),
      names: (id) => {
        const n = workloadNames(id);
        return { ...n, netnsPath: netnsPath(n.netns) };
      },
      create: (id, address) => createWorkloadNetwork({ id, bridge: o.bridge, address }),
      destroy: (netns, hostVeth) => destroyWorkloadNetwork(netns, hostVeth),
      counters: (hostVeth) => readVethCounters(hostVeth),
    },
    cgroups: {
      resources: (limits) => ociResources(limits),
      remove: (path) => removeCgroup(layout, path),
      usage: (path) => readUsage(layout, path),
      oomKills: (path) => readOomKills(layout, path).catch(() => 0),
    },
    rootfs: {
      mountOverlay,
      unmount,
      // A mount point is on another device than its parent directory.
      isMounted: (target) => {
        try {
          return statSync(target).dev !== statSync(dirname(target)).dev;
        } catch {
          return false;
        }
      },
      buildSpec,
      seccomp: (caps, profile) =>
        profile === "default" ? defaultSeccomp(caps) : seccompFor(readSeccompProfile(profile), caps),
    },
    runc: {
      create: (c) => conmon.create({ ...c, logSizeMaxBytes: o.logMaxSizeBytes }),
      // What `runc start` does, without starting runc; runc itself when that cannot be done.
      start: async (id, pid) => {
        if (pid === undefined || !(await startThroughExecFifo(runcRoot, id, pid))) await runc.start(id);
      },
      state: (id) => runc.state(id),
      list: () => runc.list(),
      kill: (id, signal) => runc.kill(id, signal),
      pause: (id) => runc.pause(id),
      resume: (id) => runc.resume(id),
      update: (id, resources) => runc.update(id, resources),
      delete: (id, force) => runc.delete(id, force),
      exec: (id, args, x) => runc.exec(id, args, x),
      // Without socat no input reaches an app: the engine then says so at create (-i is refused).
      attachStdin: socatAvailable()
        ? (bundle, ready, onError) => openAttachStdin({ bundle, ready, onError })
        : undefined,
      resize: (bundle, rows, cols) => resizeConsole(bundle, rows, cols),
    },
    injector: new SidecarInjector({
      stateDir: o.stateDir,
      distDir: o.distDir,
      controlPlane: o.controlPlane,
      token: o.token,
      cgroupParent: o.cgroupParent,
      cgroups: {
        create: (path, limits) => createCgroup(layout, path, limits),
        addProcess: (path, pid) => addProcess(layout, path, pid),
        remove: (path) => removeCgroup(layout, path),
      },
      rules: (labels) => redirectRules(interceptFromLabels(labels)),
      applyIptables,
      clock: o.clock,
      logger: o.logger,
    }),
    registrar: o.registrar,
    health: o.health,
    ports: o.ports,
  };
}
