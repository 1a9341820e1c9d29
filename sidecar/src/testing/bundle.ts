// Builds a runnable copy of the sidecar for tests that start it for real (in a netns, as uid
// 1337): DIR/sidecar.cjs next to origdst.node and DIR/proto, all readable by that uid.
import { chmodSync, cpSync, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../../cli/index";
import { SidecarError } from "../errors";

/** Bundles sidecar/src/main.ts into `dir`; returns the path of dir/sidecar.cjs. */
export async function bundleSidecar(dir: string): Promise<string> {
  const root = packageRoot();
  const addon = join(root, "sidecar", "native", "build", "Release", "origdst.node");
  if (!existsSync(addon)) {
    throw new SidecarError("BUNDLE_FAILED", `${addon} is missing; run 'npm run build' to build the addon`);
  }
  // Loaded by name at run time so the CLI bundle never tries to include esbuild itself.
  const esbuildModule = "esbuild";
  const esbuild = (await import(esbuildModule)) as typeof import("esbuild");
  const outfile = join(dir, "sidecar.cjs");
  await esbuild.build({
    entryPoints: [join(root, "sidecar", "src", "main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "error",
    // Same as scripts/build.mjs: import.meta.url must name the bundle (origdst.node and proto/ sit next to it).
    define: { "import.meta.url": "__weftImportMetaUrl" },
    banner: { js: "const __weftImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    external: ["*.node"],
  });
  cpSync(addon, join(dir, "origdst.node"));
  cpSync(join(root, "proto", "weft"), join(dir, "proto", "weft"), { recursive: true });
  makeReadable(dir);
  return outfile;
}

/** 0755 folders, 0644 files (0755 for the addon): uid 1337 must read them. */
function makeReadable(path: string): void {
  if (statSync(path).isDirectory()) {
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) makeReadable(join(path, name));
  } else {
    chmodSync(path, path.endsWith(".node") ? 0o755 : 0o644);
  }
}
