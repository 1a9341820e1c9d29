// `weft ps`: the daemon's containers as a table (or JSON).
import { type Command, parseFlags, printList, UsageError } from "../../../cli/index";
import type { ContainerState } from "../engine/types";
import { clientFor, HOST_FLAG, HOST_USAGE } from "./client";

const USAGE = `Usage: weft ps [-a] [--json]

Lists running containers.

Options:
  -a, --all   also stopped ones
  --json      print the full records as JSON
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

export const psCommand: Command = {
  name: "ps",
  summary: "List containers",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      all: { type: "boolean", short: "a" },
      json: { type: "boolean" },
      ...HOST_FLAG,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const containers = await clientFor(values.host).json<ContainerState[]>(
      "GET",
      `/containers/json${values.all ? "?all=1" : ""}`,
    );
    const now = new Date();
    printList(
      containers,
      values.json,
      ["CONTAINER ID", "NAME", "IMAGE", "STATUS", "IP", "SERVICE", "PORTS"],
      (c) => [
        c.id.slice(0, 12),
        c.name,
        c.image,
        statusText(c, now),
        c.address,
        c.service ?? "",
        [
          ...(c.publish ?? []).map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/tcp`),
          ...c.ports.map((p) => `${p.port}/${p.protocol}`),
        ].join(", "),
      ],
    );
    return 0;
  },
};
