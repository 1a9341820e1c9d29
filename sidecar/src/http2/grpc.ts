// gRPC over HTTP/2 details the proxy needs: recognising a gRPC request, the grpc-timeout header
// (a deadline the client set), and answers the proxy gives itself in a form a gRPC client reads
// (trailers-only: HTTP 200 with grpc-status, https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
import type http2 from "node:http2";

/** HTTP status → gRPC status code (doc/http-grpc-status-mapping.md), for answers of our own. */
const GRPC_STATUS: Record<number, number> = {
  400: 13,
  401: 16,
  403: 7,
  404: 12,
  429: 14,
  502: 14,
  503: 14,
  504: 4,
};
/** http2.constants.NGHTTP2_INTERNAL_ERROR (a type import keeps this module light). */
const NGHTTP2_INTERNAL_ERROR = 2;
const UNITS_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

export function isGrpc(contentType: string | string[] | undefined): boolean {
  return typeof contentType === "string" && contentType.startsWith("application/grpc");
}

/** grpc-timeout ("100m", "5S", at most 8 digits and a unit) in milliseconds; undefined when absent or bad. */
export function grpcTimeoutMs(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) return undefined;
  return Math.max(1, Math.ceil(Number(m[1]) * (UNITS_MS[m[2] as string] ?? 1)));
}

/** An answer from the proxy itself: plain text for HTTP/2, trailers-only with grpc-status for gRPC. */
export function plainAnswer(
  stream: http2.ServerHttp2Stream,
  status: number,
  message: string,
  grpc: boolean,
  via: string,
  grpcStatus = GRPC_STATUS[status] ?? 2,
  extra: Record<string, string> = {},
): void {
  if (stream.closed || stream.headersSent) return;
  try {
    respondPlain(stream, status, message, grpc, via, grpcStatus, extra);
  } catch {
    // A head node:http2 will not send (a Location built from what the client sent, say): the
    // stream is reset rather than the error thrown out of an event handler, which would end the
    // sidecar.
    stream.close(NGHTTP2_INTERNAL_ERROR);
  }
}

function respondPlain(
  stream: http2.ServerHttp2Stream,
  status: number,
  message: string,
  grpc: boolean,
  via: string,
  grpcStatus: number,
  extra: Record<string, string>,
): void {
  if (grpc) {
    stream.respond(
      {
        ":status": 200,
        "content-type": "application/grpc",
        "grpc-status": String(grpcStatus),
        "grpc-message": encodeURIComponent(message.trim()),
        via,
        ...extra,
      },
      { endStream: true },
    );
    return;
  }
  stream.respond({ ":status": status, "content-type": "text/plain; charset=utf-8", via, ...extra });
  stream.end(message);
}
