// Builds a runnable copy of the sidecar for tests that start it for real (in a netns, as uid
// 1337): DIR/sidecar.mjs with its chunks and origdst.node, bundled as scripts/build.mjs does it
// (scripts/sidecar-bundle.mjs), all readable by that uid.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../../cli/index";
import { bundleSidecarInto } from "../../../scripts/sidecar-bundle.mjs";
import { SidecarError } from "../errors";

/** Bundles sidecar/src/main.ts into `dir`; returns the path of dir/sidecar.mjs. */
export async function bundleSidecar(dir: string): Promise<string> {
  const root = packageRoot();
  const addon = join(root, "sidecar", "native", "build", "Release", "origdst.node");
  if (!existsSync(addon)) {
    throw new SidecarError("BUNDLE_FAILED", `${addon} is missing; run 'npm run build' to build the addon`);
  }
  // Loaded by name at run time so the CLI bundle never tries to include esbuild itself.
  const esbuildModule = "esbuild";
  const esbuild = (await import(esbuildModule)) as typeof import("esbuild");
  return bundleSidecarInto(esbuild, root, dir, addon);
}
