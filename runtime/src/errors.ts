// The runtime's one error class. `code` is stable (the API maps it to an HTTP status; scripts may
// match on it); the message tells the user what to do next.

export type RuntimeErrorCode =
  | "INVALID_ARGUMENT"
  | "NAME_IN_USE"
  | "CONTAINER_NOT_FOUND"
  | "CONTAINER_RUNNING"
  | "CONTAINER_NOT_RUNNING"
  | "CONTAINER_PAUSED"
  | "CONTAINER_NOT_PAUSED"
  | "RESERVED_UID"
  | "SIDECAR_FAILED"
  | "DAEMON_UNREACHABLE"
  | "SOCKET_IN_USE"
  | "PORT_IN_USE"
  | "INTERNAL";

export class RuntimeError extends Error {
  override name = "RuntimeError";
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** HTTP status for an error from any runtime module (image, network, ... errors carry a `code` too). */
export function httpStatusOf(err: unknown): number {
  const status = (err as { status?: unknown }).status;
  if (typeof status === "number") return status;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string") return 500;
  if (code.endsWith("NOT_FOUND")) return 404;
  if (
    code === "NAME_IN_USE" ||
    // A host port something else holds: the caller's conflict to resolve, not a daemon failure.
    code === "PORT_IN_USE" ||
    code === "CONTAINER_RUNNING" ||
    code === "CONTAINER_NOT_RUNNING" ||
    code === "CONTAINER_PAUSED" ||
    code === "CONTAINER_NOT_PAUSED"
  )
    return 409;
  // Other modules' codes for bad input: cgroups' INVALID_LIMIT, image's BAD_NAME, BAD_ARCHIVE, UNSAFE_PATH.
  if (
    code === "RESERVED_UID" ||
    code === "UNSAFE_PATH" ||
    code.startsWith("INVALID") ||
    code.startsWith("BAD_")
  ) {
    return 400;
  }
  return 500;
}
