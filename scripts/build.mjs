// Builds what `weft` runs: the two native addons, and two bundles:
//   dist/weft.cjs     the CLI and every component (needs node_modules for better-sqlite3,
//                     dist/proto for the control plane's gRPC servers and dist/weftsys.node)
//   dist/sidecar/     the sidecar alone, self-contained (sidecar.mjs, its lazily loaded chunks and
//                     origdst.node), so the daemon can copy the folder where uid 1337 can read it
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { bundleSidecarInto } from "./sidecar-bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const final = join(root, "dist");
// Built aside, then swapped in with two renames: a test or daemon running from dist/ while someone
// builds (weft.cjs spawned for a teardown, the sidecar folder copied for a new container) never
// finds it half-written or missing.
const dist = join(root, `dist.building-${process.pid}`);
const started = Date.now();
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
process.on("exit", () => rmSync(dist, { recursive: true, force: true }));

// node-gyp builds against the local Node headers when they are installed (no download needed).
// Two addons: the sidecar's (SO_ORIGINAL_DST) and the daemon's (posix_spawn, mount(2), netns and veth).
const gypArgs = ["rebuild", "--loglevel=error"];
if (existsSync("/usr/include/node/node_api.h")) gypArgs.push("--nodedir=/usr");
const nodeGyp = join(root, "node_modules", ".bin", "node-gyp");
for (const [dir, addon] of [
  [join(root, "sidecar", "native"), "origdst.node"],
  [join(root, "runtime", "native"), "weftsys.node"],
]) {
  execFileSync(existsSync(nodeGyp) ? nodeGyp : "node-gyp", gypArgs, {
    cwd: dir,
    stdio: ["ignore", "ignore", "inherit"],
  });
  cpSync(join(dir, "build", "Release", addon), join(dist, addon));
}

cpSync(join(root, "proto", "weft"), join(dist, "proto", "weft"), { recursive: true });

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: "linked",
  logLevel: "warning",
  // Sources are ESM; in the CommonJS bundle import.meta.url must point at the bundle itself.
  define: { "import.meta.url": "__weftImportMetaUrl" },
  banner: { js: "const __weftImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  external: ["*.node"],
};
await esbuild.build({
  ...common,
  entryPoints: [join(root, "cli", "main.ts")],
  outfile: join(dist, "weft.cjs"),
  external: [...common.external, "better-sqlite3"],
});
const addon = join(dist, "origdst.node");
await bundleSidecarInto(esbuild, root, join(dist, "sidecar"), addon);
const old = `${final}.old-${process.pid}`;
if (existsSync(final)) renameSync(final, old);
renameSync(dist, final);
rmSync(old, { recursive: true, force: true });
console.log(`weft: built dist/ in ${Date.now() - started} ms`);
