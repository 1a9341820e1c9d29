// The engine's side of `weft cp` (and Docker's /containers/ID/archive): which files a container has,
// as copy/container-fs.ts reads them. Its root is the overlay mounted at create and kept until rm.
import { join } from "node:path";
import { ContainerFs, type FsMount, RUNTIME_MOUNTS } from "../copy/container-fs";
import { RuntimeError } from "../errors";
import type { VolumeStore } from "../volumes/index";
import { usernsMappings } from "./rootfs-prep";
import type { ContainerState } from "./types";

/** The files of `state`, whose state directory is `dir`; throws when its root is not mounted. */
export function containerFs(
  state: ContainerState,
  dir: string,
  volumes: VolumeStore,
  isMounted: (path: string) => boolean,
): ContainerFs {
  const rootfs = join(dir, "rootfs");
  // An unmounted root is an empty directory of the state store: writing there would be lost.
  if (!isMounted(rootfs)) {
    throw new RuntimeError(
      "INTERNAL",
      `${state.name}'s root filesystem is not mounted (${rootfs}); start it with 'weft start ${state.name}' and copy again`,
    );
  }
  const mounts: FsMount[] = [
    { destination: "/etc/resolv.conf", source: join(dir, "resolv.conf"), readonly: true },
    { destination: "/etc/hosts", source: join(dir, "hosts"), readonly: true },
    { destination: "/etc/hostname", source: join(dir, "hostname"), readonly: true },
  ];
  for (const m of state.mounts ?? []) {
    const source = m.type === "volume" ? volumes.get(m.source).mountpoint : m.source;
    mounts.push({ destination: m.destination, source, readonly: m.readonly });
  }
  const ids = state.userns === "auto" ? usernsMappings(state.id) : undefined;
  return new ContainerFs({
    name: state.name,
    rootfs,
    mounts,
    hidden: [
      ...RUNTIME_MOUNTS,
      ...(state.tmpfs ?? []).map((t) => ({ destination: t.destination, what: "a tmpfs (--tmpfs)" })),
    ],
    readOnlyRoot: state.readOnly === true,
    uidMap: ids?.uid,
    gidMap: ids?.gid,
  });
}
