// Types for sidecar-bundle.mjs (imported by sidecar/src/testing/bundle.ts).
export const SIDECAR_ENTRY: string;
export function bundleSidecarInto(
  esbuild: typeof import("esbuild"),
  root: string,
  outdir: string,
  addon: string | undefined,
  entry?: string,
): Promise<string>;
