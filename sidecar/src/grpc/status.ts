// gRPC status codes (grpc/doc/statuscodes.md) and the error a failed call ends with.

export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const NAMES = new Map<number, string>(Object.entries(GrpcStatus).map(([name, code]) => [code, name]));

/** A call that ended with a status other than OK. `details` is the server's grpc-message. */
export class GrpcStatusError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${NAMES.get(code) ?? `status ${code}`}: ${details}`);
  }
}

/**
 * The status for a response that is not gRPC at all (a proxy's error page, a wrong port), mapped
 * from its HTTP status as grpc/doc/http-grpc-status-mapping.md says; undefined for a gRPC response.
 */
export function statusFromHttp(headers: Record<string, string | undefined>): GrpcStatusError | undefined {
  const status = Number(headers[":status"]);
  const type = String(headers["content-type"] ?? "");
  if (status === 200 && type.startsWith("application/grpc")) return undefined;
  if (status === 200 && headers["grpc-status"] !== undefined) return undefined;
  const code =
    status === 400
      ? GrpcStatus.INTERNAL
      : status === 401
        ? GrpcStatus.UNAUTHENTICATED
        : status === 404
          ? GrpcStatus.UNIMPLEMENTED
          : status === 429 || status === 502 || status === 503 || status === 504
            ? GrpcStatus.UNAVAILABLE
            : GrpcStatus.UNKNOWN;
  return new GrpcStatusError(
    code,
    `the server answered HTTP ${status} ${type || "(no content-type)"}, not gRPC`,
  );
}
