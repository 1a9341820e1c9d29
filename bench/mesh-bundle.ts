// The seam sidecar (sidecar/src/testing/seam-sidecar.ts) bundled as the daemon's sidecar is (the same
// esbuild options: ES module chunks loaded when first used), so that bench/mesh-speed.ts measures
// the CPU and RSS of plain node running what production runs, not of tsx compiling the source tree
// on load (which adds tens of MB of RSS a production sidecar does not have).
import { join } from "node:path";
import { bundleSidecarInto } from "../scripts/sidecar-bundle.mjs";

/** Bundles the seam sidecar into dir/seam/; returns the path of its entry. */
export async function bundleSeamSidecar(dir: string): Promise<string> {
  const root = join(import.meta.dirname, "..");
  // Loaded by name at run time, as sidecar/src/testing/bundle.ts does.
  const esbuildModule = "esbuild";
  const esbuild = (await import(esbuildModule)) as typeof import("esbuild");
  const entry = join(root, "sidecar", "src", "testing", "seam-sidecar.ts");
  return bundleSidecarInto(esbuild, root, join(dir, "seam"), undefined, entry);
}
