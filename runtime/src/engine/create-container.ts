// The create sequence (network, rootfs, config.json; nothing runs yet): every step that makes
// something pushes its undo, so a failure anywhere leaves nothing half-made (and never touches what
// existed before the call). A `creating` marker in the container's folder says "not finished": a
// daemon that dies mid-way finds it on load() and removes the container.
import { chownSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RuntimeError } from "../errors";
import { effectiveCapabilities, writeEtcFiles } from "../oci/index";
import { seedVolume, type VolumeStore } from "../volumes/index";
import { containerArgs, healthcheckOf, mergeEnv, resolveUser } from "./image-config";
import type { Clock, EngineParts, Logger } from "./parts";
import { Rollback } from "./rollback";
import { ensureMountPoint, insideRoot, usernsMappings } from "./rootfs-prep";
import type { StateStore } from "./state-store";
import type { ContainerState, RunSpec } from "./types";

export interface RunContext {
  parts: EngineParts;
  store: StateStore;
  clock: Clock;
  logger: Logger;
  volumes: VolumeStore;
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The marker file present while a container is being made (and, for run, started). */
export const CREATING_MARKER = "creating";

/** Creates (not starts) a container whose name and id the caller has already reserved. */
export async function createContainer(
  ctx: RunContext,
  spec: RunSpec,
  id: string,
  name: string,
): Promise<ContainerState> {
  const { parts, store, clock, logger } = ctx;
  const image = parts.images.get(spec.image);
  const { uid, gid } = resolveUser(spec.user ?? image.config.user, image.rootfs);
  const args = containerArgs(spec, image);
  const imageEnv = image.config.env.some((e) => e.startsWith("PATH="))
    ? image.config.env
    : [DEFAULT_PATH, ...image.config.env];
  const hostname = spec.hostname ?? name;
  const merged = mergeEnv(imageEnv, [`HOSTNAME=${hostname}`, ...spec.env]);
  // A terminal's type, as Docker gives a -t container unless the image or -e names one.
  const env = spec.tty && !merged.some((e) => e.startsWith("TERM=")) ? [...merged, "TERM=xterm"] : merged;
  const workdir = spec.workdir ?? (image.config.workdir || "/");
  const capabilities = effectiveCapabilities(spec);
  // Read now, so a missing profile fails the run before anything is made.
  const seccomp =
    spec.privileged || spec.seccomp === "unconfined"
      ? undefined
      : parts.rootfs.seccomp(capabilities, spec.seccomp);
  const mounts = spec.volumes.map((m) => {
    if (m.type === "bind" && !existsSync(m.source)) {
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `-v ${m.source}:${m.destination}: host path ${m.source} does not exist; create it first`,
      );
    }
    return m;
  });
  const idMappings = spec.userns === "auto" ? usernsMappings(id) : undefined;
  const cgroupPath = `/${parts.cgroupParent}/${id}`;
  // Checked now (the cgroups module refuses limits the kernel would), before anything is made.
  const resources = parts.cgroups.resources({
    memoryBytes: spec.memoryBytes,
    cpus: spec.cpus,
    pids: spec.pids,
    cpuShares: spec.cpuShares,
  });

  const rollback = new Rollback((what, err) =>
    logger.warn(`run ${name}: undoing ${what} failed: ${(err as Error).message}`),
  );
  try {
    const dir = store.containerDir(id);
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    rollback.push("state dir", () => store.removeDir(id));
    writeFileSync(join(dir, CREATING_MARKER), "");

    const address = parts.network.allocate(id);
    rollback.push("address", () => parts.network.release(id));
    const names = parts.network.names(id);

    const state: ContainerState = {
      id,
      name,
      // As the user named it ("shop", not the store's "shop:latest"), as `docker ps` shows it.
      image: spec.image,
      imageId: image.id,
      created: clock.now().toISOString(),
      status: "created",
      address,
      gateway: parts.network.gateway(),
      netns: names.netns,
      hostVeth: names.hostVeth,
      cmd: args,
      env,
      service: spec.service,
      ports: spec.ports,
      labels: spec.labels,
      memoryBytes: spec.memoryBytes,
      cpus: spec.cpus,
      pids: spec.pids,
      cpuShares: spec.cpuShares,
      sidecar: spec.sidecar,
      uid,
      gid,
      cgroupPath,
      hostname,
      workdir,
      readOnly: spec.readOnly,
      privileged: spec.privileged,
      capabilities,
      seccomp: spec.privileged ? "unconfined" : spec.seccomp,
      autoRemove: spec.autoRemove,
      mounts,
      userns: spec.userns,
      restartPolicy: spec.restart,
      restartCount: 0,
      healthcheck:
        spec.healthcheck ?? (spec.noHealthcheck ? undefined : healthcheckOf(image.config.healthcheck)),
      publish: spec.publish,
      tmpfs: spec.tmpfs,
      tty: spec.tty,
      interactive: spec.interactive,
      stdinOnce: spec.stdinOnce,
      stopTimeoutS: spec.stopTimeoutS,
      stopSignal: spec.stopSignal ?? image.config.stopSignal ?? "SIGTERM",
      networks: spec.networks,
    };
    // Saved before anything is made in the kernel: a daemon that dies from here on finds the container
    // (and its `creating` marker) on load() and removes whatever of it exists.
    store.save(state);

    // The /etc files, the rootfs and the network do not depend on each other: made concurrently, so
    // `mount` and the network's script run side by side. Each undo waits for its step to settle, so a
    // failure elsewhere never races a half-made one.
    // The gateway as nameserver: with a sidecar, udp/53 is captured to its DNS whatever the address.
    const etcWritten = writeEtcFiles(dir, { hostname, address, nameserver: state.gateway });
    const rootfs = join(dir, "rootfs");
    const mounted = (async () => {
      for (const sub of ["upper", "work", "rootfs"])
        mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
      await parts.rootfs.mountOverlay({
        lower: image.layers,
        upper: join(dir, "upper"),
        work: join(dir, "work"),
        target: rootfs,
      });
    })();
    rollback.push("rootfs mount", async () => {
      await mounted.catch(() => undefined);
      await parts.rootfs.unmount(rootfs);
    });
    const network = parts.network.create(id, address);
    rollback.push("network", async () => {
      await network.catch(() => undefined);
      await parts.network.destroy(names.netns, names.hostVeth);
    });
    const [, , etc] = await Promise.all([network, mounted, etcWritten]);
    const binds = [
      { source: etc.resolvConf, destination: "/etc/resolv.conf", readonly: true },
      { source: etc.hosts, destination: "/etc/hosts", readonly: true },
      { source: etc.hostname, destination: "/etc/hostname", readonly: true },
    ];
    for (const m of mounts) {
      // Named volumes are made on first use (Docker's habit), under STATE/volumes/NAME/_data.
      const source = m.type === "volume" ? ctx.volumes.create(m.source).mountpoint : m.source;
      // Docker's copy-up: an empty named volume starts with what the image has there.
      if (m.type === "volume") await seedVolume(source, rootfs, m.destination);
      binds.push({ source, destination: m.destination, readonly: m.readonly });
      if (idMappings) ensureMountPoint(rootfs, m.destination, statSync(source).isDirectory());
    }
    // Made by the host's root: under --userns=auto the container's root could not create them.
    if (idMappings) for (const b of binds.slice(0, 3)) ensureMountPoint(rootfs, b.destination, false);
    // Docker creates a missing working directory; on the overlay, so the image is untouched.
    if (insideRoot(rootfs, workdir)) mkdirSync(join(rootfs, workdir), { recursive: true, mode: 0o755 });
    // The container's root owns its "/" (a copy-up of one directory), so it can make top-level
    // paths; the image's files stay the host root's and read as nobody's (best effort, no id-mapped mounts).
    if (idMappings) chownSync(rootfs, idMappings.uid[0]!.hostID, idMappings.gid[0]!.hostID);
    const config = parts.rootfs.buildSpec({
      rootfs,
      args,
      env,
      cwd: workdir,
      uid,
      gid,
      hostname,
      netnsPath: names.netnsPath,
      cgroupsPath: cgroupPath,
      resources,
      binds,
      tmpfs: spec.tmpfs,
      readonlyRootfs: spec.readOnly,
      capabilities,
      seccomp,
      privileged: spec.privileged,
      idMappings,
    });
    // -t: the monitor allocates the terminal and gets its master through runc's console socket.
    if (spec.tty) {
      const proc = (config as { process: { terminal?: boolean; consoleSize?: object } }).process;
      proc.terminal = true;
      // runc sizes the terminal before the app runs, so a shell sees its size at once.
      if (spec.consoleSize)
        proc.consoleSize = { height: spec.consoleSize.rows, width: spec.consoleSize.cols };
    }
    writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2), { mode: 0o600 });
    return state;
  } catch (err) {
    await rollback.run();
    throw err;
  }
}
