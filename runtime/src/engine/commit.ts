// weft commit (Docker's POST /commit): a new image from a container, running or stopped. Its layer is
// the container's overlay upper directory (what it changed), written as an OCI layer over its
// image's; its config is what the container runs with (env, command, workdir, user, ports, labels)
// with --change instructions applied. A running container is frozen while its files are read
// (Docker's --pause, the default), so the layer is one moment's state. Also weft image save, the
// way such an image leaves the machine.
import { createWriteStream, rmSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ContainerFs } from "../copy/container-fs";
import { packLayer, packRoot } from "../copy/pack";
import { RuntimeError } from "../errors";
import { applyChanges } from "../image/dockerfile-changes";
import type { ImageConfig } from "../image/record";
import { saveArchive } from "../image/save";
import { imageHealthcheck } from "./image-config";
import { EngineNetworks } from "./networks";
import type { ImageInfo, ImagesPart } from "./parts";
import type { ContainerState } from "./types";

export interface CommitOptions {
  /** Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR). */
  changes?: string[];
  comment?: string;
  author?: string;
  /** Freeze a running container while its layer is written (default true). */
  pause?: boolean;
  /** The new image's config exactly (a Dockerfile build's), instead of the container's with `changes`. */
  config?: ImageConfig;
}

/** What the runtime makes in a container's root itself (runc's mount points), not the app. */
const RUNTIME_DIRS = ["/proc", "/sys", "/dev"];

export class EngineCommit extends EngineNetworks {
  /** Stores the container's changes as a new image named `name` (re-pointed if it existed). */
  async commit(ref: string, name: string, o: CommitOptions = {}): Promise<ImageInfo> {
    const state = this.find(ref);
    const base = this.parts.images.list().find((i) => i.id === state.imageId);
    if (!base)
      throw new RuntimeError(
        "INTERNAL",
        `the image ${state.image} of ${state.name} is gone; its changes have nothing to go on top of`,
      );
    // Before anything is frozen: a bad --change fails at once.
    const config = o.config ?? applyChanges(runConfig(state, base.config), o.changes ?? []);
    const files = this.filesOf(state).o;
    const upper = new ContainerFs({
      ...files,
      name: state.name,
      rootfs: join(this.store.containerDir(state.id), "upper"),
      mounts: [],
    });
    const skip = new Set([...RUNTIME_DIRS, ...files.mounts.map((m) => m.destination)]);
    const image = await this.locked(state.id, async () => {
      const freeze = (o.pause ?? true) && state.status === "running" && !state.paused;
      if (freeze) await this.parts.runc.pause(state.id);
      try {
        return await this.parts.images.commit(name, {
          base,
          config,
          comment: o.comment,
          author: o.author,
          writeLayers: async (dir) => {
            const layers: Array<{ path: string; what: string }> = [];
            if (base.diffIds.length === 0) {
              // A plain rootfs image has no layer to build on: its tree becomes one.
              const path = join(dir, "base.tar");
              const root = new ContainerFs({
                name: base.name,
                rootfs: base.rootfs,
                mounts: [],
                readOnlyRoot: true,
              });
              await pipeline(Readable.from(packRoot(root)), createWriteStream(path));
              layers.push({ path, what: `the rootfs of image ${base.name}` });
            }
            const path = join(dir, "changes.tar");
            await pipeline(Readable.from(packLayer(upper, skip)), createWriteStream(path));
            layers.push({ path, what: `the changes of container ${state.name}` });
            return layers;
          },
        });
      } finally {
        // Not thrown: it would hide the commit's own outcome (an image made, or why not).
        if (freeze)
          await this.parts.runc
            .resume(state.id)
            .catch((err: Error) => this.logger.warn(`thawing ${state.name} after commit: ${err.message}`));
      }
    });
    this.emit("commit", state, { image: image.name });
    return image;
  }

  /** A `docker save` archive of the named images (weft image save, Docker's GET /images/get). */
  saveImages(names: string[]): AsyncGenerator<Buffer> {
    return saveImages(this.parts.images, names);
  }
}

/**
 * A `docker save` archive of the named images (image/save.ts). Every name is looked up before
 * anything is written, so an unknown one is an IMAGE_NOT_FOUND error rather than a broken stream.
 */
export function saveImages(images: ImagesPart, names: string[]): AsyncGenerator<Buffer> {
  const records = names.map((n) => images.get(n));
  return (async function* () {
    const scratch = images.scratchDir();
    try {
      yield* saveArchive(records, scratch);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  })();
}

/**
 * The config a container runs with, as Docker's commit keeps it: its environment (without the
 * HOSTNAME the runtime sets, one value per name), its command split back into the image's
 * entrypoint and the rest, its workdir, user, declared ports and labels (not the runtime's weft.*).
 */
export function runConfig(state: ContainerState, image: ImageConfig): ImageConfig {
  const env = new Map<string, string>();
  for (const e of state.env) {
    const key = e.split("=", 1)[0] as string;
    if (key === "HOSTNAME") continue;
    env.delete(key); // the last one wins, and takes the last place
    env.set(key, e);
  }
  const ep = image.entrypoint;
  const keepsEntrypoint = ep.length > 0 && ep.every((a, i) => state.cmd[i] === a);
  const root = state.uid === 0 && state.gid === 0;
  const imageRoot = ["", "0", "root", "0:0", "root:root"].includes(image.user);
  const ports = state.ports.map((p) => `${p.port}/tcp`);
  const healthcheck = imageHealthcheck(state.healthcheck) ?? image.healthcheck;
  const stopSignal = state.stopSignal && state.stopSignal !== "SIGTERM" ? state.stopSignal : image.stopSignal;
  return {
    env: [...env.values()],
    entrypoint: keepsEntrypoint ? ep : [],
    cmd: keepsEntrypoint ? state.cmd.slice(ep.length) : state.cmd,
    workdir: state.workdir || image.workdir,
    user: root ? (imageRoot ? image.user : "0:0") : `${state.uid}:${state.gid}`,
    exposedPorts: [...new Set([...image.exposedPorts, ...ports])],
    // weft.* labels are the runtime's own (weft up's project and service): a container made from
    // the image would otherwise count as one of that project's.
    labels: {
      ...image.labels,
      ...Object.fromEntries(Object.entries(state.labels).filter(([k]) => !k.startsWith("weft."))),
    },
    // The container's own command health check (an HTTP one has no image form) or the image's.
    ...(healthcheck ? { healthcheck } : {}),
    ...(stopSignal ? { stopSignal } : {}),
  };
}
