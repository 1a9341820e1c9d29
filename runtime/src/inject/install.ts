// Puts the sidecar bundle where uid 1337 can read it: a checkout under /root is not readable by the
// proxy user, so the daemon copies the folder dist/sidecar (sidecar.mjs, its chunks, origdst.node)
// to STATE/sidecar (dirs 0755, files 0644) and lets everyone traverse STATE (0711) without listing it.
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { RuntimeError } from "../errors";

const BUNDLE_DIR = "sidecar";
const ENTRY = "sidecar.mjs";
const BUNDLE_FILES = [ENTRY, "origdst.node"];

/** Copies the bundle from `distDir` into STATE/sidecar; returns the path of the sidecar script. */
export function installSidecarBundle(stateDir: string, distDir: string): string {
  const source = join(distDir, BUNDLE_DIR);
  for (const f of BUNDLE_FILES) {
    if (!existsSync(join(source, f))) {
      throw new RuntimeError(
        "SIDECAR_FAILED",
        `${join(source, f)} is missing; build it with 'npm run build'`,
      );
    }
  }
  mkdirSync(stateDir, { recursive: true });
  chmodSync(stateDir, 0o711);
  checkTraversable(dirname(resolve(stateDir)));
  const target = join(stateDir, "sidecar");
  // Fresh each time, so a daemon started from a newer build never runs an older sidecar.
  rmSync(target, { recursive: true, force: true });
  cpSync(source, target, { recursive: true });
  setModes(target);
  return join(target, ENTRY);
}

function setModes(path: string): void {
  if (statSync(path).isDirectory()) {
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) setModes(join(path, entry));
  } else {
    chmodSync(path, 0o644);
  }
}

/** Every ancestor of the state dir must let "others" search it, or uid 1337 cannot load the bundle. */
function checkTraversable(dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new RuntimeError(
        "SIDECAR_FAILED",
        `the sidecar (uid 1337) cannot reach the state dir: ${d} is not searchable by others; chmod o+x ${d} or choose another --state-dir`,
      );
    }
    if (d === dirname(d)) return;
  }
}
