// The run sequence: every step that makes something pushes its undo, so a failure anywhere leaves
// nothing half-made (and never touches what existed before the call).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RuntimeError } from "../errors";
import { writeEtcFiles } from "../oci/index";
import type { Clock, EngineParts, ImageInfo, Logger } from "./parts";
import { Rollback } from "./rollback";
import type { StateStore } from "./state-store";
import { type ContainerState, type RunSpec, SIDECAR_UID } from "./types";

export interface RunContext {
  parts: EngineParts;
  store: StateStore;
  clock: Clock;
  logger: Logger;
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** "uid[:gid]" or a user name looked up in the image's /etc/passwd. */
export function resolveUser(user: string, rootfs: string): { uid: number; gid: number } {
  if (user === "") return { uid: 0, gid: 0 };
  const [u, g] = user.split(":");
  let uid = Number(u);
  let gid = g !== undefined ? Number(g) : Number.NaN;
  if (!/^\d+$/.test(u ?? "")) {
    const passwd = join(rootfs, "etc", "passwd");
    const line = existsSync(passwd)
      ? readFileSync(passwd, "utf8")
          .split("\n")
          .find((l) => l.split(":")[0] === u)
      : undefined;
    if (!line)
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `user "${u}" is not in the image's /etc/passwd; give a numeric UID`,
      );
    const fields = line.split(":");
    uid = Number(fields[2]);
    if (g === undefined) gid = Number(fields[3]);
  }
  if (Number.isNaN(gid)) gid = uid === 0 ? 0 : uid;
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new RuntimeError("INVALID_ARGUMENT", `user "${user}" must be UID or UID:GID`);
  }
  if (uid === SIDECAR_UID) {
    throw new RuntimeError("RESERVED_UID", `uid ${SIDECAR_UID} is reserved for the weft sidecar`);
  }
  return { uid, gid };
}

/** What the container runs: the image's entrypoint followed by the given command or the image's. */
export function containerArgs(spec: RunSpec, image: ImageInfo): string[] {
  const args = [
    ...image.config.entrypoint,
    ...(spec.cmd && spec.cmd.length > 0 ? spec.cmd : image.config.cmd),
  ];
  if (args.length === 0) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `image "${image.name}" has no command; give one after the image name (weft run IMAGE CMD...)`,
    );
  }
  return args;
}

/** Creates and starts a container whose name and id the caller has already reserved. */
export async function runContainer(
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
  const env = [...imageEnv, `HOSTNAME=${name}`, ...spec.env];
  const cgroupPath = `/${parts.cgroupParent}/${id}`;
  // Checked now (the cgroups module refuses limits the kernel would), before anything is made.
  const resources = parts.cgroups.resources({
    memoryBytes: spec.memoryBytes,
    cpus: spec.cpus,
    pids: spec.pids,
  });

  const rollback = new Rollback((what, err) =>
    logger.warn(`run ${name}: undoing ${what} failed: ${(err as Error).message}`),
  );
  try {
    const dir = store.containerDir(id);
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    rollback.push("state dir", () => store.removeDir(id));

    const address = parts.network.allocate(id);
    rollback.push("address", () => parts.network.release(id));
    const net = await parts.network.create(id, address);
    rollback.push("network", () => parts.network.destroy(net.netns, net.hostVeth));

    const state: ContainerState = {
      id,
      name,
      image: image.name,
      imageId: image.id,
      created: clock.now().toISOString(),
      status: "created",
      address,
      gateway: parts.network.gateway(),
      netns: net.netns,
      hostVeth: net.hostVeth,
      cmd: args,
      env,
      service: spec.service,
      ports: spec.ports,
      labels: spec.labels,
      memoryBytes: spec.memoryBytes,
      cpus: spec.cpus,
      pids: spec.pids,
      sidecar: spec.sidecar,
      uid,
      gid,
      cgroupPath,
    };
    // Saved before the slow steps so a daemon that dies mid-run finds the container and can remove it.
    store.save(state);

    if (spec.sidecar) {
      const sidecar = await parts.injector.start({
        id,
        name,
        dir,
        netns: net.netns,
        netnsPath: net.netnsPath,
        address,
        service: spec.service,
        ports: spec.ports,
        labels: spec.labels,
      });
      rollback.push("sidecar", async () => {
        await parts.injector.stop(sidecar.pid, 2000);
        await parts.injector.cleanup(sidecar.cgroupPath);
      });
      state.sidecarPid = sidecar.pid;
      state.sidecarCgroupPath = sidecar.cgroupPath;
      store.save(state);
    }

    const rootfs = join(dir, "rootfs");
    for (const sub of ["upper", "work", "rootfs"])
      mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
    await parts.rootfs.mountOverlay({
      lower: image.rootfs,
      upper: join(dir, "upper"),
      work: join(dir, "work"),
      target: rootfs,
    });
    rollback.push("rootfs mount", () => parts.rootfs.unmount(rootfs));

    // The gateway as nameserver: with a sidecar, udp/53 is captured to its DNS whatever the address.
    const etc = await writeEtcFiles(dir, { hostname: name, address, nameserver: state.gateway });
    const binds = [
      { source: etc.resolvConf, destination: "/etc/resolv.conf", readonly: true },
      { source: etc.hosts, destination: "/etc/hosts", readonly: true },
      { source: etc.hostname, destination: "/etc/hostname", readonly: true },
    ];
    const config = parts.rootfs.buildSpec({
      rootfs,
      args,
      env,
      cwd: image.config.workdir || "/",
      uid,
      gid,
      hostname: name,
      netnsPath: net.netnsPath,
      cgroupsPath: cgroupPath,
      resources,
      binds,
    });
    writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2), { mode: 0o600 });

    rollback.push("app cgroup", () => parts.cgroups.remove(cgroupPath));
    rollback.push("runc container", () => parts.runc.delete(id, true));
    // File fds, not pipes: the app keeps writing its logs when the daemon is gone.
    const stdout = openSync(join(dir, "stdout.log"), "a", 0o640);
    const stderr = openSync(join(dir, "stderr.log"), "a", 0o640);
    try {
      state.pid = await parts.runc.run(id, dir, { stdout, stderr });
    } finally {
      closeSync(stdout);
      closeSync(stderr);
    }
    state.status = "running";
    state.startedAt = clock.now().toISOString();
    store.save(state);
    return state;
  } catch (err) {
    await rollback.run();
    throw err;
  }
}
