// The spans a test sidecar exported to its fake control plane (started with keepTraceExports, as the
// harness does), decoded by the control plane's own OTLP decoder.
import { decodeTraceRequest } from "../../../control-plane/src/telemetry/otlp-protobuf";
import type { SpanRecord } from "../../../control-plane/src/telemetry/types";
import type { FakeControlPlane } from "./wire-fake-control-plane";

/** SERVER = 2, CLIENT = 3 (OTLP's span kinds). */
export type ExportedKind = 2 | 3;

/** Waits (up to 5 s: spans leave within about a second) until `n` spans of `kind` have come. */
export async function exportedSpans(
  cp: FakeControlPlane,
  kind: ExportedKind,
  n: number,
): Promise<SpanRecord[]> {
  for (let i = 0; ; i++) {
    const spans = cp.traceExports
      .flatMap((body) => decodeTraceRequest(body).spans)
      .filter((s) => s.kind === kind);
    if (spans.length >= n || i >= 100) return spans;
    await new Promise((r) => setTimeout(r, 50));
  }
}
