import { CommandError } from "./exec";

/**
 * Every failure of the network module. `code` is stable for callers to branch on:
 * INVALID_SUBNET, INVALID_ADDRESS, INVALID_ID, IPAM_EXHAUSTED, IPAM_STATE, BRIDGE_FAILED, NOT_A_BRIDGE,
 * NETNS_EXISTS, NETNS_NOT_FOUND, NETWORK_SETUP_FAILED, NETWORK_TEARDOWN_FAILED, NETNS_EXEC_FAILED,
 * IPTABLES_FAILED.
 */
export class NetworkError extends Error {
  override readonly name = "NetworkError";
  constructor(
    readonly code: string,
    message: string,
    /** The command that failed, when one did (shell-quoted). */
    readonly command?: string,
    /** That command's stderr. */
    readonly stderr?: string,
  ) {
    super(message);
  }
}

/** Wraps a failed command in a NetworkError whose message leads with what weft was trying to do. */
export function wrapCommandError(code: string, doing: string, err: unknown): NetworkError {
  if (err instanceof NetworkError) return err;
  if (err instanceof CommandError) {
    return new NetworkError(code, `${doing}: ${err.message}`, err.command, err.stderr);
  }
  return new NetworkError(code, `${doing}: ${err instanceof Error ? err.message : String(err)}`);
}
