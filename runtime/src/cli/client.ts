// The CLI's connection to the daemon: --host, WEFT_HOST or the default socket.
import { EngineClient, resolveHost } from "../api/client";

export const HOST_FLAG = { host: { type: "string" as const } };

export const HOST_USAGE =
  "  --host unix://PATH     the daemon's socket (default $WEFT_HOST or unix:///run/weft/weft.sock)";

export function clientFor(host: string | undefined): EngineClient {
  return new EngineClient(resolveHost(host));
}

/** Encodes a container reference for a path segment. */
export function ref(name: string): string {
  return encodeURIComponent(name);
}
