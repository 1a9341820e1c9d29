import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/**
 * The weft package's root folder (holding package.json, dist/, proto/), found by walking up from
 * this module: works from the TypeScript sources (tsx) and from the dist/ bundles alike.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "weft") {
      root = dir;
      return dir;
    }
    dir = dirname(dir);
  }
  throw new Error("cannot find the weft package root (package.json named weft) above this module");
}
