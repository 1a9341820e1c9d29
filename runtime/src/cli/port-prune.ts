// `weft port` (where a container's ports are published on the host) and `weft container prune`
// (remove every stopped container), as docker's.
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import { matchesFilters } from "../engine/container-filter";
import type { ContainerState } from "../engine/types";
import { clientFor, confirm, HOST_FLAG, HOST_USAGE, ref, removeEach } from "./client";
import { parseFilterFlags } from "./ps";

export const portCommand: Command = {
  name: "port",
  summary: "Show where a container's ports are published on the host",
  usage: `Usage: weft port CONTAINER [PORT[/tcp]]\n\nPrints each published port as docker does ("8080/tcp -> 127.0.0.1:18080"); with PORT, only\nthe host address it is published on.\n\nOptions:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    const [name, wanted, extra] = positionals;
    if (name === undefined) throw new UsageError("missing CONTAINER");
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const c = await clientFor(values.host).json<ContainerState>("GET", `/containers/${ref(name)}/json`);
    const published = c.publish ?? [];
    if (wanted === undefined) {
      for (const p of published)
        process.stdout.write(`${p.containerPort}/tcp -> ${p.hostIp}:${p.hostPort}\n`);
      return 0;
    }
    const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(wanted);
    if (!m) throw new UsageError(`PORT must be a number, optionally with /tcp, got "${wanted}"`);
    const matching = published.filter((p) => p.containerPort === Number(m[1]) && m[2] !== "udp");
    if (matching.length === 0) {
      const known = published.map((p) => `${p.containerPort}/tcp`).join(", ") || "none";
      process.stderr.write(
        `weft port: no public port '${m[1]}/${m[2] ?? "tcp"}' published for ${c.name} (published: ${known}; publish with 'weft run -p HOST:${m[1]}')\n`,
      );
      return 1;
    }
    for (const p of matching) process.stdout.write(`${p.hostIp}:${p.hostPort}\n`);
    return 0;
  },
};

export const containerPruneCommand: Command = {
  name: "container prune",
  summary: "Remove all stopped containers",
  usage: `Usage: weft container prune [-f] [--filter label=KEY[=VALUE]]...\n\nRemoves every container that is not running (created or exited), as docker container prune.\n\nOptions:\n  -f, --force            do not ask first\n  --filter FILTER        only those that match (the keys weft ps --filter takes)\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      force: { type: "boolean", short: "f" },
      filter: { type: "string", multiple: true },
      ...HOST_FLAG,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const filters = parseFilterFlags(values.filter ?? []);
    if (!values.force && !(await confirm("WARNING! This will remove all stopped containers."))) return 0;
    const client = clientFor(values.host);
    const stopped = (await client.json<ContainerState[]>("GET", "/containers/json?all=1")).filter(
      (c) => (c.status === "exited" || c.status === "created") && matchesFilters(filters, c),
    );
    const { removed, code } = await removeEach(
      "weft container prune",
      stopped,
      (c) => client.call("DELETE", `/containers/${ref(c.id)}`),
      (c) => c.name,
    );
    const deleted = removed.map((c) => c.id);
    if (deleted.length > 0)
      process.stdout.write(`Deleted Containers:\n${deleted.map((id) => `${id}\n`).join("")}`);
    else process.stdout.write("No stopped containers to remove.\n");
    return code;
  },
};
