// Where a redirected connection was going before iptables sent it to the sidecar. The kernel keeps
// it in conntrack; SO_ORIGINAL_DST reads it, through the small addon in sidecar/native (Node has no
// getsockopt). Listeners take an OriginalDst function, so tests can provide one without iptables.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SidecarError } from "../errors";

export interface Destination {
  address: string;
  port: number;
}

/** The original destination of an accepted socket, or undefined when it cannot be read. */
export type OriginalDst = (socket: Socket) => Destination | undefined;

interface Addon {
  getOriginalDst(fd: number): Destination;
}

/**
 * Loads origdst.node: next to the bundle (dist/sidecar/ with its chunks, dist/weft.cjs, or the
 * daemon's copy), else the build in sidecar/native when running from the sources.
 */
export function loadOriginalDst(): OriginalDst {
  // In the bundles import.meta.url is the bundle's own URL (the ES module's, or defined so for weft.cjs).
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, "origdst.node"),
    join(here, "..", "..", "native", "build", "Release", "origdst.node"),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    throw new SidecarError(
      "ADDON_MISSING",
      `cannot find origdst.node (looked in ${candidates.join(", ")}); run 'npm run build' to build it`,
    );
  }
  const addon = createRequire(import.meta.url)(file) as Addon;
  return (socket) => {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== "number" || fd < 0) return undefined;
    try {
      return addon.getOriginalDst(fd);
    } catch {
      return undefined; // not a redirected connection (no conntrack entry)
    }
  };
}
