// `weft trace ID` output: spans as a tree in start order, each with its offset from the trace's
// start, its duration and a bar placed on a common time axis, like a tracing UI's waterfall.
import type { SpanView, TraceView } from "./query-types";

export interface WaterfallOptions {
  /** Width of the bar column in characters. Default 40. */
  barWidth?: number;
}

function startNs(s: SpanView): bigint {
  return BigInt(s.startTimeUnixNano);
}

/** Spans depth-first from the roots (spans whose parent is absent), children in start order. */
export function orderSpans(spans: SpanView[]): { span: SpanView; depth: number }[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, SpanView[]>();
  const roots: SpanView[] = [];
  for (const s of spans) {
    if (s.parentSpanId === "" || !ids.has(s.parentSpanId)) roots.push(s);
    else children.set(s.parentSpanId, [...(children.get(s.parentSpanId) ?? []), s]);
  }
  const byStart = (a: SpanView, b: SpanView) =>
    startNs(a) < startNs(b) ? -1 : startNs(a) > startNs(b) ? 1 : 0;
  const out: { span: SpanView; depth: number }[] = [];
  const visit = (s: SpanView, depth: number) => {
    out.push({ span: s, depth });
    for (const c of (children.get(s.spanId) ?? []).sort(byStart)) visit(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) visit(r, 0);
  return out;
}

/** "0.97ms", "265.9ms", "1.20s": as the waterfall, trace lists and endpoint lists print durations. */
export function fmtMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms >= 10) return `${ms.toFixed(1)}ms`;
  return `${ms.toFixed(2)}ms`;
}

/** A 4xx the sidecar gave itself (denied, rate limited): the status and why, e.g. " 403: RBAC: ...". */
function refusal(span: SpanView): string {
  const reason = span.attributes["weft.reason"];
  if (typeof reason !== "string" || reason === "") return "";
  const status = span.attributes["http.response.status_code"];
  const text = reason.length > 120 ? `${reason.slice(0, 119)}…` : reason;
  return ` ${typeof status === "number" ? `${status}: ` : ""}${text}`;
}

export function renderWaterfall(trace: TraceView, o: WaterfallOptions = {}): string {
  const width = o.barWidth ?? 40;
  if (trace.spans.length === 0) return `trace ${trace.traceId}: no spans\n`;
  let t0 = startNs(trace.spans[0]!);
  for (const s of trace.spans) if (startNs(s) < t0) t0 = startNs(s);
  const end = Math.max(...trace.spans.map((s) => Number(startNs(s) - t0) / 1e6 + s.durationMs));
  const total = Math.max(end, 0.001);
  const ordered = orderSpans(trace.spans);
  const services = new Set(trace.spans.map((s) => s.service));
  const errors = trace.spans.filter((s) => s.status.code === "error").length;
  const lines = [
    `trace ${trace.traceId}  ${fmtMs(end)}  ${trace.spans.length} spans  ${services.size} services  ${errors} errors`,
    "",
  ];
  const rows = ordered.map(({ span, depth }) => {
    const offset = Number(startNs(span) - t0) / 1e6;
    const from = Math.min(width - 1, Math.floor((offset / total) * width));
    const len = Math.max(1, Math.round((span.durationMs / total) * width));
    const bar =
      " ".repeat(from) + (span.status.code === "error" ? "!" : "#").repeat(Math.min(len, width - from));
    const retries = Number(span.attributes["weft.retries"] ?? 0);
    const label = `${"  ".repeat(depth)}${span.service}: ${span.name}${span.kind === "client" || span.kind === "server" ? ` (${span.kind})` : ""}${retries > 0 ? ` retried ${retries}x` : ""}${span.status.code === "error" ? " ERROR" : ""}${refusal(span)}`;
    return {
      offset: `+${fmtMs(offset)}`,
      duration: fmtMs(span.durationMs),
      bar: `|${bar.padEnd(width)}|`,
      label,
    };
  });
  const wo = Math.max(6, ...rows.map((r) => r.offset.length));
  const wd = Math.max(8, ...rows.map((r) => r.duration.length));
  lines.push(`${"OFFSET".padEnd(wo)}  ${"DURATION".padEnd(wd)}  ${"TIMELINE".padEnd(width + 2)}  SPAN`);
  for (const r of rows) lines.push(`${r.offset.padEnd(wo)}  ${r.duration.padEnd(wd)}  ${r.bar}  ${r.label}`);
  return `${lines.join("\n")}\n`;
}
