// The control plane's one error class: a stable `code` for callers and tests, and a message that
// tells the user what to do next.

export type ControlPlaneErrorCode =
  | "PORT_IN_USE"
  | "SOCKET_IN_USE"
  | "INVALID_ARGUMENT"
  | "SERVICE_NOT_FOUND"
  | "VIP_RANGE_EXHAUSTED"
  | "INVALID_CIDR"
  | "UNREACHABLE"
  | "BAD_CSR"
  | "CA_INCOMPLETE"
  | "CA_UNREADABLE";

export class ControlPlaneError extends Error {
  override name = "ControlPlaneError";
  constructor(
    readonly code: ControlPlaneErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The message users see for a service name that the registry does not hold. */
export function serviceNotFound(name: string): ControlPlaneError {
  return new ControlPlaneError(
    "SERVICE_NOT_FOUND",
    `service "${name}" not found; list services with 'weft services'`,
  );
}
