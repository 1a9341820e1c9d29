// What a test sidecar sent its fake control plane (started with keepTelemetry, as the harness does):
// spans, decoded by the control plane's own OTLP decoder, and access-log lines.
import { decodeTraceRequest } from "../../../control-plane/src/telemetry/otlp-protobuf";
import type { SpanRecord } from "../../../control-plane/src/telemetry/types";
import type { ShippedLine } from "../telemetry/log-shipper";
import { linesOf } from "./log-batches";
import type { FakeControlPlane } from "./wire-fake-control-plane";

/** SERVER = 2, CLIENT = 3 (OTLP's span kinds). */
export type ExportedKind = 2 | 3;

/** Waits (up to 10 s: spans leave within about a second) until `n` spans of `kind` have come. */
export async function exportedSpans(
  cp: FakeControlPlane,
  kind: ExportedKind,
  n: number,
): Promise<SpanRecord[]> {
  for (let i = 0; ; i++) {
    const spans = cp.traceExports
      .flatMap((body) => decodeTraceRequest(body).spans)
      .filter((s) => s.kind === kind);
    if (spans.length >= n || i >= 200) return spans;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits (up to 10 s: lines leave within about a second) until `n` access-log lines have come. */
export async function pushedAccessLines(cp: FakeControlPlane, n: number): Promise<ShippedLine[]> {
  for (let i = 0; ; i++) {
    const lines = cp.logPushes
      .flatMap((body) => linesOf({ records: body, lines: 0 }))
      .filter((l) => l.source === "access");
    if (lines.length >= n || i >= 200) return lines;
    await new Promise((r) => setTimeout(r, 50));
  }
}
