// The base image of a `from: IMAGE` build, as the store describes it, and a way to read its merged
// root: one layer is read as it is; several are mounted as a read-only overlay (which applies their
// whiteouts), because the layer folders hold overlay's whiteout format, not the OCI one.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execTool } from "../exec";
import { unmount } from "../overlay";
import { BuildError } from "./errors";

export interface BaseImage {
  /** The image's layer folders, top first (a plain rootfs image has one). */
  layers: string[];
  config: {
    env: string[];
    cmd: string[];
    entrypoint: string[];
    workdir: string;
    user: string;
    exposedPorts?: string[];
    labels?: Record<string, string>;
  };
}

/** Runs fn with a folder showing the base image's merged root; cleans up even when fn throws. */
export async function withBaseRoot<T>(base: BaseImage, fn: (root: string) => Promise<T>): Promise<T> {
  const [only, ...rest] = base.layers;
  if (only === undefined) throw new BuildError("BAD_SPEC", "the base image has no layers");
  if (rest.length === 0) return fn(only);
  const target = await mkdtemp(join(tmpdir(), "weft-build-base-"));
  try {
    const res = await execTool("mount", [
      "-t",
      "overlay",
      "overlay",
      "-o",
      `ro,lowerdir=${base.layers.join(":")}`,
      target,
    ]);
    if (res.code !== 0) {
      throw new BuildError(
        "TOOL_FAILED",
        `mounting the base image's layers failed: ${res.stderr.trim()} (run as root)`,
      );
    }
    return await fn(target);
  } finally {
    await unmount(target);
    await rm(target, { recursive: true, force: true });
  }
}
