// How the sidecar is bundled, shared by scripts/build.mjs (dist/sidecar/) and the tests that start a
// real sidecar (sidecar/src/testing/bundle.ts). Every workload starts one, so what it loads before
// it is ready matters:
// - ES modules with code splitting: what the sidecar loads only later (tracing and access logs with
//   the OpenTelemetry SDK and winston, the HTTP/2 proxy, the OTLP exporters with grpc-js) sits in
//   chunks of its own, read and compiled only when first imported. The entry file is about a tenth
//   of the whole.
// - Minified whitespace and syntax (names kept, so messages and stack traces still read; the
//   source maps map lines).
// Bundled CommonJS packages still call require(): the banner gives every chunk one.
import { chmodSync, cpSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** The entry file's name inside the sidecar's folder. */
export const SIDECAR_ENTRY = "sidecar.mjs";

/**
 * Bundles sidecar/src/main.ts (or another entry: the benches' seam sidecar) into outdir, with
 * origdst.node copied from `addon` when given; returns the entry's path.
 */
export async function bundleSidecarInto(
  esbuild,
  root,
  outdir,
  addon,
  entry = join(root, "sidecar", "src", "main.ts"),
) {
  await esbuild.build({
    entryPoints: { sidecar: entry },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    outExtension: { ".js": ".mjs" },
    chunkNames: "[name]-[hash]",
    platform: "node",
    // ES module builds of the packages first (the OpenTelemetry packages ship both): only those can
    // be tree-shaken, which leaves out most of semantic-conventions' thousands of constants.
    mainFields: ["module", "main"],
    target: "node20",
    sourcemap: "linked",
    logLevel: "warning",
    minifyWhitespace: true,
    minifySyntax: true,
    banner: {
      js: "import { createRequire as __weftCreateRequire } from 'node:module'; const require = __weftCreateRequire(import.meta.url);",
    },
    external: ["*.node"],
  });
  if (addon) cpSync(addon, join(outdir, "origdst.node"));
  makeReadable(outdir);
  return join(outdir, SIDECAR_ENTRY);
}

/** 0755 folders, 0644 files (0755 for the addon): the sidecar runs as uid 1337 and must read them. */
function makeReadable(path) {
  if (statSync(path).isDirectory()) {
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) makeReadable(join(path, name));
  } else {
    chmodSync(path, path.endsWith(".node") ? 0o755 : 0o644);
  }
}
