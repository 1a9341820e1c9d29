// What the daemon's data takes on disk (weft system df, Docker's GET /system/df): images (each
// once, with what they share with other images), each container's writable layer (its overlay
// upper directory), and each volume. Trees are walked asynchronously, so a large volume does not
// hold the daemon's loop; a file with several hard links counts once.
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { VolumeInfo } from "../volumes/index";
import type { ImageInfo } from "./parts";
import type { ContainerState } from "./types";

export interface DiskUsage {
  /** Every image's content, each layer (or plain rootfs) once. */
  layersBytes: number;
  /** One per image id (its names together). */
  images: Array<{ names: string[]; image: ImageInfo; containers: number; sharedBytes: number }>;
  containers: Array<{ state: ContainerState; rwBytes: number; rootBytes: number }>;
  volumes: Array<{ volume: VolumeInfo; bytes: number; refs: number }>;
}

/** Bytes of the regular files under `dir` (0 when it is not there), hard links once. */
export async function treeBytes(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (path: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(path);
    } catch {
      return; // gone, or not a directory
    }
    for (const name of names) {
      const child = join(path, name);
      const st = await lstat(child).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) await walk(child);
      else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1 && seen.has(key)) continue;
        if (st.nlink > 1) seen.add(key);
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}

/**
 * The usage of `images`, `containers` (their writable layers at `upperOf`) and `volumes`.
 * `layerBytes` gives a stored layer's size by diff id (0 when unknown).
 */
export async function diskUsage(o: {
  images: ImageInfo[];
  layerBytes(diffId: string): number;
  containers: ContainerState[];
  upperOf(state: ContainerState): string;
  volumes: Array<VolumeInfo & { usedBy: string[] }>;
}): Promise<DiskUsage> {
  const byId = new Map<string, ImageInfo[]>();
  for (const i of o.images) byId.set(i.id, [...(byId.get(i.id) ?? []), i]);
  // Which image ids each layer belongs to, to tell shared bytes from an image's own.
  const owners = new Map<string, Set<string>>();
  for (const [id, [image]] of byId)
    for (const d of image?.diffIds ?? []) owners.set(d, new Set([...(owners.get(d) ?? []), id]));
  let layersBytes = 0;
  for (const d of owners.keys()) layersBytes += o.layerBytes(d);
  const images = [...byId.entries()].map(([id, group]) => {
    const image = group[0] as ImageInfo;
    if (image.diffIds.length === 0) layersBytes += image.sizeBytes; // a plain rootfs, its own
    const sharedBytes = image.diffIds
      .filter((d) => (owners.get(d)?.size ?? 0) > 1)
      .reduce((sum, d) => sum + o.layerBytes(d), 0);
    return {
      names: group.map((i) => i.name).sort(),
      image,
      containers: o.containers.filter((c) => c.imageId === id).length,
      sharedBytes,
    };
  });
  const containers = [];
  for (const state of o.containers) {
    const rwBytes = await treeBytes(o.upperOf(state));
    const image = byId.get(state.imageId)?.[0];
    containers.push({ state, rwBytes, rootBytes: rwBytes + (image?.sizeBytes ?? 0) });
  }
  const volumes = [];
  for (const v of o.volumes)
    volumes.push({ volume: v, bytes: await treeBytes(v.mountpoint), refs: v.usedBy.length });
  return { layersBytes, images, containers, volumes };
}
