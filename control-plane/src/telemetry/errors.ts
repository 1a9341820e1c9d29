// The telemetry component's error class: a stable `code`, a message that says what to do.

export type TelemetryErrorCode =
  | "BAD_OTLP"
  | "BAD_QUERY"
  | "TRACE_NOT_FOUND"
  | "STORE_FAILED"
  | "QUERY_FAILED"
  | "PORT_IN_USE"
  | "CLOSED";

export class TelemetryError extends Error {
  override name = "TelemetryError";
  constructor(
    readonly code: TelemetryErrorCode,
    message: string,
  ) {
    super(message);
  }
}
