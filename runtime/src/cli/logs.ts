// `weft logs` and `weft events`: the daemon's two streams, printed as they arrive.
import { createInterface } from "node:readline";
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import { controlPlaneCommands } from "../../../control-plane/src/index";
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "../api/detach-keys";
import { EVENT_FILTER_KEYS, eventMatcher } from "../engine/events";
import type { ContainerState, EngineEvent } from "../engine/types";
import { attachSession } from "./attach-session";
import { clientFor, HOST_FLAG, HOST_USAGE, ref } from "./client";
import { parseTimeFlag } from "./durations";

const LOGS_USAGE = `Usage: weft logs [OPTIONS] CONTAINER
       weft logs --service S [OPTIONS]

Prints what the container wrote: stdout to stdout, stderr to stderr, in the order it was written.
With --service, every replica's lines from the control plane's log store instead (weft mesh-logs),
each with its time, container and level; there -n/--tail is at most 5000 ("all" is 5000), --tail 0
with -f prints only new lines, and --level, --grep (-q), --trace and --container narrow it.

Options:
  -f, --follow           keep printing new output until the container stops
  --since T              only output since T (2026-01-02T15:04:05Z, Unix seconds, or 10m ago)
  --until T              only output before T (not with --service)
  -n, --tail N           only the last N lines ("all" for every line)
  -t, --timestamps       prefix each line with the time the monitor stamped on it
${HOST_USAGE}`;

/**
 * `weft logs --service S` with docker's flags, as `weft mesh-logs` takes them: --since in Unix
 * seconds or an ISO time, -n/--tail (all: mesh-logs' most, 5000; 0: no history, only new lines),
 * -t (mesh-logs prints each line's time anyway). --until has no mesh-logs form and is refused.
 */
export function meshLogsArgs(argv: string[], now = new Date()): string[] {
  const { values, positionals } = parseFlags(argv, {
    service: { type: "string" },
    container: { type: "string" },
    level: { type: "string" },
    trace: { type: "string" },
    grep: { type: "string", short: "q" },
    follow: { type: "boolean", short: "f" },
    since: { type: "string" },
    until: { type: "string" },
    tail: { type: "string", short: "n" },
    timestamps: { type: "boolean", short: "t" },
    "control-plane": { type: "string" },
    json: { type: "boolean" },
  });
  if (positionals.length > 0)
    throw new UsageError(
      `unexpected argument "${positionals[0]}": with --service, weft logs prints every replica of the service; give a CONTAINER without --service for one container`,
    );
  if (values.until !== undefined)
    throw new UsageError("--until is not taken with --service; use --since with a time or a duration");
  const out: string[] = [];
  for (const k of ["service", "container", "level", "trace", "grep", "control-plane"] as const)
    if (values[k] !== undefined) out.push(`--${k}`, values[k]);
  if (values.follow) out.push("--follow");
  if (values.json) out.push("--json");
  let since = values.since;
  // mesh-logs takes a duration back or an RFC 3339 time; docker's forms (Unix seconds) become a time.
  if (since !== undefined && !/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(since))
    since = parseTimeFlag("--since", since, now);
  const tail = values.tail;
  if (tail !== undefined && tail !== "all" && !/^\d+$/.test(tail))
    throw new UsageError(`--tail expects a number of lines or "all", got "${tail}"`);
  if (tail === "0") {
    if (!values.follow) return []; // nothing asked for: docker prints nothing too
    since = "0s"; // docker's `logs -f --tail 0`: only what comes from now on
  } else if (tail !== undefined)
    out.push("--tail", tail === "all" ? "5000" : String(Math.min(Number(tail), 5000)));
  if (since !== undefined) out.push("--since", since);
  return out;
}

export const logsCommand: Command = {
  name: "logs",
  summary: "Print (or follow) a container's stdout and stderr",
  usage: LOGS_USAGE,
  async run(argv) {
    // `weft logs --service S [-f]`: every replica of a service, from the control plane's log store
    // (what `weft mesh-logs` prints), rather than one container from this daemon.
    if (argv.some((a) => a === "--service" || a.startsWith("--service="))) {
      const meshLogs = controlPlaneCommands.find((c) => c.name === "mesh-logs");
      if (!meshLogs) throw new UsageError("this build has no mesh-logs command");
      const args = meshLogsArgs(argv);
      return args.length === 0 ? 0 : meshLogs.run(args);
    }
    const { values, positionals } = parseFlags(argv, {
      follow: { type: "boolean", short: "f" },
      since: { type: "string" },
      until: { type: "string" },
      tail: { type: "string", short: "n" },
      timestamps: { type: "boolean", short: "t" },
      ...HOST_FLAG,
    });
    if (positionals.length !== 1) throw new UsageError("expects exactly one CONTAINER");
    const q = new URLSearchParams({ stdout: "1", stderr: "1", format: "json" });
    if (values.follow) q.set("follow", "1");
    if (values.since) q.set("since", parseTimeFlag("--since", values.since));
    if (values.until) q.set("until", parseTimeFlag("--until", values.until));
    if (values.tail !== undefined) {
      if (values.tail !== "all" && !/^\d+$/.test(values.tail)) {
        throw new UsageError(`--tail expects a number of lines or "all", got "${values.tail}"`);
      }
      q.set("tail", values.tail);
    }
    const res = await clientFor(values.host).stream("GET", `/containers/${ref(positionals[0]!)}/logs?${q}`);
    for await (const text of createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (!text) continue;
      const e = JSON.parse(text) as { stream: string; time: string; line: string };
      const out = e.stream === "stderr" ? process.stderr : process.stdout;
      out.write(values.timestamps ? `${e.time} ${e.line}` : e.line);
    }
    return 0;
  },
};

const ATTACH_USAGE = `Usage: weft attach [OPTIONS] CONTAINER

Attaches this terminal to a running container's app: its output from now on, and, for a container
run with -i, this terminal's input. Exits with the app's exit code when it ends; the detach keys
(ctrl-p ctrl-q) leave it running.

Options:
  --no-stdin             do not send input
  --detach-keys KEYS     keys that detach (default ${DEFAULT_DETACH_KEYS})
${HOST_USAGE}`;

export const attachCommand: Command = {
  name: "attach",
  summary: "Attach this terminal's input and output to a running container",
  usage: ATTACH_USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      "no-stdin": { type: "boolean" },
      "detach-keys": { type: "string" },
      ...HOST_FLAG,
    });
    if (positionals.length !== 1) throw new UsageError("expects exactly one CONTAINER");
    const detachKeys = parseDetachKeys(values["detach-keys"] ?? DEFAULT_DETACH_KEYS);
    const client = clientFor(values.host);
    const state = await client.json<ContainerState>("GET", `/containers/${ref(positionals[0]!)}/json`);
    return attachSession(client, state.id, {
      stdin: state.interactive === true && !values["no-stdin"],
      tty: state.tty === true,
      logs: false,
      detachKeys,
    });
  },
};

const EVENTS_USAGE = `Usage: weft events [OPTIONS]

Streams container and image events (create, start, die, stop, kill, restart, destroy, oom,
health_status, ...) as they happen; with --until, prints those in the range and exits.

Options:
  --since T              also print past events since T (the daemon keeps the last 1000)
  --until T              stop at T
  --container NAME       only this container's events
  -f, --filter KEY=VALUE only matching events, as docker events --filter: type, container, event,
                         image, label, volume (repeatable; one key's values are alternatives)
  --json                 one JSON object per line
${HOST_USAGE}`;

/** Docker's event line: TIME TYPE ACTION ID (k=v, ...). */
export function formatEvent(e: EngineEvent): string {
  const attrs = Object.entries(e.attributes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  return `${e.time} ${e.type} ${e.action} ${e.id}${attrs ? ` (${attrs})` : ""}`;
}

/** --filter KEY=VALUE flags, grouped by key; a usage error names a bad one. */
function eventFilters(flags: string[]): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  for (const f of flags) {
    const eq = f.indexOf("=");
    if (eq <= 0) throw new UsageError(`bad format of filter "${f}" (expected name=value)`);
    const key = f.slice(0, eq);
    if (!EVENT_FILTER_KEYS.includes(key)) {
      throw new UsageError(`invalid filter "${key}": filter by ${EVENT_FILTER_KEYS.join(", ")}`);
    }
    filters.set(key, [...(filters.get(key) ?? []), f.slice(eq + 1)]);
  }
  return filters;
}

export const eventsCommand: Command = {
  name: "events",
  summary: "Stream the daemon's container and image events",
  usage: EVENTS_USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      since: { type: "string" },
      until: { type: "string" },
      container: { type: "string" },
      filter: { type: "string", short: "f", multiple: true },
      json: { type: "boolean" },
      ...HOST_FLAG,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const keep = eventMatcher(eventFilters(values.filter ?? []));
    const q = new URLSearchParams();
    if (values.since) q.set("since", parseTimeFlag("--since", values.since));
    if (values.until) q.set("until", parseTimeFlag("--until", values.until));
    if (values.container) q.set("container", values.container);
    const res = await clientFor(values.host).stream("GET", `/events${q.size > 0 ? `?${q}` : ""}`);
    for await (const text of createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (!text) continue;
      const e = JSON.parse(text) as EngineEvent;
      if (!keep(e)) continue;
      process.stdout.write(values.json ? `${text}\n` : `${formatEvent(e)}\n`);
    }
    return 0;
  },
};
