// The seam sidecar (sidecar/src/testing/seam-sidecar.ts) bundled as the daemon's sidecar is, so that
// bench/mesh-speed.ts measures the CPU and RSS of plain node running one file, not of tsx compiling
// the source tree on load (which adds tens of MB of RSS a production sidecar does not have).
import { cpSync } from "node:fs";
import { join } from "node:path";

/** Bundles the seam sidecar into dir/seam-sidecar.mjs (proto/ copied next to it); returns its path. */
export async function bundleSeamSidecar(dir: string): Promise<string> {
  const root = join(import.meta.dirname, "..");
  // Loaded by name at run time, as sidecar/src/testing/bundle.ts does.
  const esbuildModule = "esbuild";
  const esbuild = (await import(esbuildModule)) as typeof import("esbuild");
  const outfile = join(dir, "seam-sidecar.mjs");
  await esbuild.build({
    entryPoints: [join(root, "sidecar", "src", "testing", "seam-sidecar.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    // ESM: the seam sidecar awaits at top level. Bundled CommonJS packages still call require().
    format: "esm",
    logLevel: "error",
    banner: {
      js: "import { createRequire as __weftCreateRequire } from 'node:module'; const require = __weftCreateRequire(import.meta.url);",
    },
    external: ["*.node"],
  });
  cpSync(join(root, "proto", "weft"), join(dir, "proto", "weft"), { recursive: true });
  return outfile;
}
