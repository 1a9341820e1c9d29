// `weft ps`: the daemon's containers as a table (or JSON).
import { type Command, GoTemplate, parseFlags, printList, UsageError } from "../../../cli/index";
import {
  CONTAINER_FILTER_KEYS,
  type ContainerFilters,
  filtersNeedAll,
  matchesFilters,
  unknownFilterKey,
} from "../engine/container-filter";
import type { ContainerState } from "../engine/types";
import { clientFor, HOST_FLAG, HOST_USAGE } from "./client";

const USAGE = `Usage: weft ps [-a] [-q] [-f KEY=VALUE]... [--format TEMPLATE | --json]

Lists running containers.

Options:
  -a, --all              also stopped ones
  -q, --quiet            only the containers' IDs ('weft rm -f $(weft ps -aq)')
  -f, --filter KEY=VALUE only containers that match, as docker ps: name (part of the name), id
                         (a prefix), label (KEY or KEY=VALUE), status (created, running,
                         restarting, exited), exited (an exit code), health (starting, healthy,
                         unhealthy, none), ancestor (an image name or id), service; repeat a key
                         for either value, give several keys for all of them
  --format TEMPLATE      each container through a Go template, as docker ps: fields ID, Names,
                         Image, Command, CreatedAt, RunningFor, Status, State, Ports, Labels,
                         Networks, IP, Service; {{json .}}; "table " adds headers
                         (--format 'table {{.Names}}\\t{{.Status}}')
  --json                 print the full records as JSON
${HOST_USAGE}`;

/**
 * "3 seconds", "5 minutes", "2 hours", "4 days", "3 weeks", "5 months", "56 years": the units
 * Docker's CLI uses (go-units HumanDuration), so an image built with the reproducible epoch
 * timestamp reads "56 years", not "20787 days".
 */
export function ago(from: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(from)) / 1000));
  const days = Math.floor(s / 86400);
  const [n, unit] =
    s < 60
      ? [s, "second"]
      : s < 3600
        ? [Math.floor(s / 60), "minute"]
        : s < 86400
          ? [Math.floor(s / 3600), "hour"]
          : days < 14
            ? [days, "day"]
            : days < 60
              ? [Math.floor(days / 7), "week"]
              : days < 730
                ? [Math.floor(days / 30), "month"]
                : [Math.floor(days / 365), "year"];
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

export function statusText(c: ContainerState, now: Date): string {
  if (c.status === "running" && c.paused) return `Up ${ago(c.startedAt ?? c.created, now)} (Paused)`;
  if (c.status === "running") {
    const health =
      c.health && c.healthcheck
        ? ` (${c.health.status === "starting" ? "health: starting" : c.health.status})`
        : "";
    return `Up ${ago(c.startedAt ?? c.created, now)}${health}`;
  }
  if (c.status === "restarting") {
    return `Restarting (${c.exitCode ?? 0}) ${c.finishedAt ? `${ago(c.finishedAt, now)} ago` : ""}`.trimEnd();
  }
  if (c.status === "exited") {
    // Docker's form: "Exited (137) 5 seconds ago".
    const code = c.exitCode !== undefined ? ` (${c.exitCode})` : "";
    const when = c.finishedAt ? ` ${ago(c.finishedAt, now)} ago` : "";
    return `Exited${code}${when}${c.oomKilled ? " (OOMKilled)" : ""}`;
  }
  return "Created";
}

/** A container as `weft ps --format` reads it: docker ps's field names, and weft's IP and Service. */
export function psRow(c: ContainerState, now: Date) {
  return {
    ID: c.id.slice(0, 12),
    Names: c.name,
    Image: c.image,
    Command: `"${c.cmd.join(" ")}"`,
    CreatedAt: goTime(c.created),
    RunningFor: `${ago(c.created, now)} ago`,
    Status: statusText(c, now),
    State: c.status,
    Ports: [
      // Bound only while it runs (docker ps shows no mapping for a created or stopped container).
      ...(c.status === "running" ? (c.publish ?? []) : []).map(
        (p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/tcp`,
      ),
      ...c.ports.map((p) => `${p.port}/${p.protocol}`),
    ].join(", "),
    Labels: Object.entries(c.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
    Networks: c.address ? "weft" : "",
    IP: c.address,
    Service: c.service ?? "",
  };
}

/** docker ps's column names for its --format fields (a table's header row). */
const PS_HEADERS: Record<string, string> = {
  id: "CONTAINER ID",
  names: "NAMES",
  command: "COMMAND",
  createdat: "CREATED AT",
  runningfor: "CREATED",
};

/** Go's time.Time as docker prints CreatedAt: "2026-11-30 18:04:33 +0000 UTC". */
export function goTime(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
}

/** --filter KEY=VALUE flags as a filter map; Docker's words for a malformed or unknown one. */
export function parseFilterFlags(flags: string[]): ContainerFilters {
  const filters: ContainerFilters = new Map();
  for (const f of flags) {
    const eq = f.indexOf("=");
    if (eq <= 0) throw new UsageError(`bad format of filter "${f}" (expected name=value)`);
    const key = f.slice(0, eq).toLowerCase();
    filters.set(key, [...(filters.get(key) ?? []), f.slice(eq + 1)]);
  }
  const unknown = unknownFilterKey(filters);
  if (unknown !== undefined) {
    throw new UsageError(`invalid filter "${unknown}": filter by ${CONTAINER_FILTER_KEYS.join(", ")}`);
  }
  return filters;
}

export const psCommand: Command = {
  name: "ps",
  summary: "List containers",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      all: { type: "boolean", short: "a" },
      quiet: { type: "boolean", short: "q" },
      filter: { type: "string", short: "f", multiple: true },
      format: { type: "string" },
      json: { type: "boolean" },
      ...HOST_FLAG,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.format !== undefined && values.json) throw new UsageError("give --format or --json, not both");
    const filters = parseFilterFlags(values.filter ?? []);
    // Parsed before the daemon is asked, so a bad template is a usage error and nothing else.
    const template = values.format === undefined ? undefined : new GoTemplate(values.format);
    const all = values.all || filtersNeedAll(filters);
    const containers = (
      await clientFor(values.host).json<ContainerState[]>("GET", `/containers/json${all ? "?all=1" : ""}`)
    ).filter((c) => matchesFilters(filters, c));
    const now = new Date();
    if (values.quiet) {
      process.stdout.write(containers.map((c) => `${c.id.slice(0, 12)}\n`).join(""));
      return 0;
    }
    if (template) {
      const rows = containers.map((c) => psRow(c, now));
      process.stdout.write(template.renderAll(rows, (f) => PS_HEADERS[f.toLowerCase()]));
      return 0;
    }
    printList(
      containers,
      values.json,
      ["CONTAINER ID", "NAME", "IMAGE", "STATUS", "IP", "SERVICE", "PORTS"],
      (c) => {
        const row = psRow(c, now);
        return [row.ID, row.Names, row.Image, row.Status, row.IP, row.Service, row.Ports];
      },
    );
    return 0;
  },
};
