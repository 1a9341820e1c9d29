// The engine's verbs on a container's files (weft cp, diff, export; Docker's /archive, /changes,
// /export), running or stopped: its overlay root, with its mounts laid over it (copy/container-fs.ts).
import { join } from "node:path";
import { type Change, containerChanges } from "../copy/changes";
import { ContainerFs } from "../copy/container-fs";
import { type ExtractOptions, type ExtractResult, extractInto } from "../copy/extract";
import { type PathStat, packPath, packRoot, statPath } from "../copy/pack";
import { RuntimeError } from "../errors";
import { containerFs } from "./copy";
import { type DiskUsage, diskUsage } from "./disk-usage";
import { EngineResources } from "./resources";
import type { ContainerState } from "./types";

export class EngineFiles extends EngineResources {
  /** What is at `path` in the container, running or not (Docker's HEAD /containers/ID/archive). */
  statPath(ref: string, path: string): PathStat {
    return statPath(this.filesOf(this.find(ref)), path);
  }

  /** A tar of `path` in the container and what is there (Docker's GET /containers/ID/archive). */
  archive(ref: string, path: string): { stat: PathStat; tar: AsyncGenerator<Buffer> } {
    const state = this.find(ref);
    const out = packPath(this.filesOf(state), path);
    this.emit("archive-path", state, { path });
    return out;
  }

  /** Unpacks a tar into the existing directory `dir` of the container (Docker's PUT /containers/ID/archive). */
  async extract(
    ref: string,
    dir: string,
    tar: AsyncIterable<Buffer>,
    o: ExtractOptions,
  ): Promise<ExtractResult> {
    const state = this.find(ref);
    const result = await extractInto(this.filesOf(state), dir, tar, o);
    this.emit("extract-to-dir", state, { path: dir });
    return result;
  }

  /** What the container changed in its file system, running or not (Docker's GET /containers/ID/changes). */
  changes(ref: string): Change[] {
    const state = this.find(ref);
    const files = this.filesOf(state);
    const image = this.parts.images.list().find((i) => i.id === state.imageId);
    if (!image)
      throw new RuntimeError(
        "INTERNAL",
        `the image ${state.image} of ${state.name} is gone; its changes cannot be told`,
      );
    const mountPoints = files.o.mounts.map((m) => m.destination);
    return containerChanges(join(this.store.containerDir(state.id), "upper"), image.layers, mountPoints);
  }

  /** The container's whole file system as a tar, without its volumes and binds (docker export). */
  exportFs(ref: string): AsyncGenerator<Buffer> {
    const state = this.find(ref);
    const tar = packRoot(new ContainerFs({ ...this.filesOf(state).o, mounts: [] }));
    this.emit("export", state, {});
    return tar;
  }

  /** A stored layer's size by diff id (the sum of its regular files), 0 when unknown. */
  layerBytes(diffId: string): number {
    return this.parts.images.layerBytes(diffId);
  }

  /** What images, containers' writable layers and volumes take on disk (weft system df). */
  diskUsage(): Promise<DiskUsage> {
    return diskUsage({
      images: this.parts.images.list(),
      layerBytes: (d) => this.parts.images.layerBytes(d),
      containers: [...this.containers.values()],
      upperOf: (state) => join(this.store.containerDir(state.id), "upper"),
      volumes: this.listVolumes(),
    });
  }

  protected filesOf(state: ContainerState) {
    return containerFs(state, this.store.containerDir(state.id), this.volumes, (p) =>
      this.parts.rootfs.isMounted(p),
    );
  }
}
