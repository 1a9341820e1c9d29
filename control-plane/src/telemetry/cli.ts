// Telemetry CLI verbs: `weft traces` (search), `weft trace ID` (waterfall), `weft mesh-logs`
// (search and follow the mesh's logs). All read the control plane's HTTP API.
import { type Command, parseFlags, printList, UsageError } from "../../../cli/index";
import { controlPlaneUrl, getJson } from "../api/client";
import { formatLogLine, streamMeshLogs } from "./mesh-logs";
import type { TraceSummary, TraceView } from "./query-types";
import { parseDurationMs } from "./rest-params";
import { fmtMs, renderWaterfall } from "./waterfall";

const CLIENT_HELP = `  --control-plane URL  the control plane's HTTP API (default $WEFT_CONTROL_PLANE or http://127.0.0.1:15080)
  --json               print JSON instead of a table`;

function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

const traces: Command = {
  name: "traces",
  summary: "Search recent traces (by service, operation, duration, status)",
  usage: `Usage: weft traces [OPTIONS]

Options:
  --service S          traces with a span in service S
  --operation O        traces with a span named O (with --service: in that service)
  --min-duration MS    traces with a span lasting at least MS milliseconds
  --status error       traces where a span matching the filters above failed (with --service S:
                       one of S's spans; without filters: any span)
  --status ok          traces where no span matching the filters above failed
  --since D            how far back: 15m, 2h, 7d or an RFC 3339 time (default 1h)
  --limit N            at most N traces, newest first (default 20)
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      service: { type: "string" },
      operation: { type: "string" },
      "min-duration": { type: "string" },
      status: { type: "string" },
      since: { type: "string" },
      limit: { type: "string" },
      "control-plane": { type: "string" },
      json: { type: "boolean" },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const q = new URLSearchParams();
    for (const [flag, param] of [
      ["service", "service"],
      ["operation", "operation"],
      ["min-duration", "minDurationMs"],
      ["status", "status"],
      ["since", "since"],
      ["limit", "limit"],
    ] as const) {
      const v = values[flag];
      if (v !== undefined) q.set(param, v);
    }
    const body = await getJson<{ traces: TraceSummary[] }>(
      controlPlaneUrl(values["control-plane"]),
      `/api/v1/traces?${q}`,
    );
    if (body.traces.length === 0 && !values.json) {
      process.stderr.write(
        `No traces found ${sinceWords(values.since)}${filtered(values, TRACE_FILTERS)}.\n`,
      );
      return 0;
    }
    printList(
      body.traces,
      values.json,
      ["trace-id", "root", "duration", "spans", "errors", "services", "age"],
      (t) => [
        t.traceId,
        `${t.rootService}: ${t.rootOperation}${t.partial ? " (partial)" : ""}`,
        fmtMs(t.durationMs),
        String(t.spanCount),
        String(t.errorCount),
        t.services.join(","),
        age(t.startTime),
      ],
    );
    return 0;
  },
};

const trace: Command = {
  name: "trace",
  summary: "Show one trace as a waterfall of its spans",
  usage: `Usage: weft trace TRACE_ID [OPTIONS]

Options:
  --width N            width of the timeline column (default 40)
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      width: { type: "string" },
      "control-plane": { type: "string" },
      json: { type: "boolean" },
    });
    const [id, extra] = positionals;
    if (!id)
      throw new UsageError(
        "name the trace, e.g. 'weft trace 4bf92f3577b34da6a3ce929d0e0e4736' (see 'weft traces')",
      );
    if (extra) throw new UsageError(`unexpected argument "${extra}"`);
    if (!/^[0-9a-fA-F]{32}$/.test(id)) throw new UsageError(`a trace id is 32 hex characters, got "${id}"`);
    const width = values.width === undefined ? 40 : Number(values.width);
    if (!Number.isInteger(width) || width < 10 || width > 200) {
      throw new UsageError(`--width expects a whole number from 10 to 200, got "${values.width}"`);
    }
    const body = await getJson<TraceView>(
      controlPlaneUrl(values["control-plane"]),
      `/api/v1/traces/${id.toLowerCase()}`,
    );
    if (values.json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    else process.stdout.write(renderWaterfall(body, { barWidth: width }));
    return 0;
  },
};

const meshLogs: Command = {
  name: "mesh-logs",
  summary: "Search and follow logs across the mesh (access logs, container output)",
  usage: `Usage: weft mesh-logs [--service S] [OPTIONS]

Options:
  --service S          lines of service S (every replica)
  --container C        lines of one container
  --level L            lines at level L or above: debug, info, warn, error
  --trace ID           lines of one trace
  -q, --grep TEXT      full-text search: whole words, ANDed, case and accents ignored; word* for a prefix
  --since D            how far back: 15m, 2h, 7d or an RFC 3339 time (default 1h)
  --tail N             recent lines to print first (default 100)
  -f, --follow         keep printing new lines until interrupted
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      service: { type: "string" },
      container: { type: "string" },
      level: { type: "string" },
      trace: { type: "string" },
      grep: { type: "string", short: "q" },
      since: { type: "string" },
      tail: { type: "string" },
      follow: { type: "boolean", short: "f" },
      "control-plane": { type: "string" },
      json: { type: "boolean" },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const limit = values.tail === undefined ? undefined : Number(values.tail);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 5000)) {
      throw new UsageError(`--tail expects a whole number from 1 to 5000, got "${values.tail}"`);
    }
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    let printed = 0;
    try {
      await streamMeshLogs(
        {
          controlPlane: values["control-plane"],
          service: values.service,
          container: values.container,
          level: values.level,
          traceId: values.trace,
          q: values.grep,
          since: values.since,
          limit,
          follow: values.follow,
          signal: stop.signal,
        },
        (l) => {
          printed++;
          process.stdout.write(values.json ? `${JSON.stringify(l)}\n` : `${formatLogLine(l)}\n`);
        },
        (n) =>
          process.stderr.write(
            `weft: the control plane dropped ${n} lines (this terminal reads too slowly)\n`,
          ),
      );
    } finally {
      process.off("SIGINT", onSignal);
    }
    // As 'weft traces' (and kubectl): nothing on stdout, the reason on stderr.
    if (printed === 0 && !values.follow && !values.json) {
      process.stderr.write(
        `No log lines found ${sinceWords(values.since)}${filtered(values, LOG_FILTERS)}.\n`,
      );
    }
    return 0;
  },
};

const TRACE_FILTERS = ["service", "operation", "min-duration", "status"];
const LOG_FILTERS = ["service", "container", "level", "trace", "grep"];

/** "in the last 1h", "since 2024-05-01T10:00:00Z": the window a search without results covered. */
function sinceWords(since = "1h"): string {
  return parseDurationMs(since) === undefined ? `since ${since}` : `in the last ${since}`;
}

function filtered(values: Record<string, unknown>, flags: string[]): string {
  return flags.some((f) => values[f] !== undefined) ? " that match" : "";
}

export const telemetryCommands: Command[] = [traces, trace, meshLogs];
