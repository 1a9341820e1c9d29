// `weft network ls|create|inspect|rm|connect|disconnect`: named networks, as docker network's verbs.
// They group containers on the one bridge (network/named-networks.ts says why); docker-compose makes
// them through the Docker API, and these show and manage the same ones.
import { type Command, keyValues, parseFlags, printList, UsageError } from "../../../cli/index";
import type { NetworkJson } from "../api/routes-networks";
import { clientFor, HOST_FLAG, HOST_USAGE, ref, removeEach, removeNamed } from "./client";

export const networkLsCommand: Command = {
  name: "network ls",
  summary: "List named networks (every container not on one is on weft, the bridge's own)",
  usage: `Usage: weft network ls [-q | --json]\n\nOptions:\n  -q, --quiet   only the networks' names\n  --json        print the full records as JSON\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      quiet: { type: "boolean", short: "q" },
      json: { type: "boolean" },
      ...HOST_FLAG,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const networks = await clientFor(values.host).json<NetworkJson[]>("GET", "/networks");
    if (values.quiet) {
      process.stdout.write(networks.map((n) => `${n.name}\n`).join(""));
      return 0;
    }
    printList(networks, values.json ?? false, ["NETWORK ID", "NAME", "CONTAINERS", "LABELS"], (n) => [
      n.id.slice(0, 12),
      n.name,
      String(n.containers.length),
      Object.entries(n.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
    ]);
    return 0;
  },
};

export const networkCreateCommand: Command = {
  name: "network create",
  summary: "Create a named network (on the bridge; it isolates nothing the mesh connects)",
  usage: `Usage: weft network create [--label KEY=VALUE]... NAME\n\nOptions:\n  --label KEY=VALUE   a label; repeatable\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      label: { type: "string", multiple: true },
      ...HOST_FLAG,
    });
    if (positionals.length !== 1) throw new UsageError("expects exactly one NAME");
    const n = await clientFor(values.host).json<NetworkJson>("POST", "/networks/create", {
      name: positionals[0],
      labels: keyValues("--label", values.label ?? []),
    });
    process.stdout.write(`${n.id}\n`);
    return 0;
  },
};

export const networkInspectCommand: Command = {
  name: "network inspect",
  summary: "Show named networks as JSON, with their containers",
  usage: `Usage: weft network inspect NAME...\n\nOptions:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    if (positionals.length === 0) throw new UsageError("missing NAME");
    const client = clientFor(values.host);
    const found: NetworkJson[] = [];
    const { code } = await removeEach("weft network inspect", positionals, async (name) =>
      found.push(await client.json<NetworkJson>("GET", `/networks/${ref(name)}`)),
    );
    process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
    return code;
  },
};

export const networkRmCommand: Command = {
  name: "network rm",
  summary: "Remove named networks (refused while a container, even a stopped one, is on one)",
  usage: `Usage: weft network rm NAME...\n\nOptions:\n${HOST_USAGE}`,
  run: removeNamed("weft network rm", "networks"),
};

export const networkConnectCommand: Command = {
  name: "network connect",
  summary: "Put a container on a named network",
  usage: `Usage: weft network connect [--alias NAME]... NETWORK CONTAINER\n\nOptions:\n  --alias NAME   another name for the container on the network (kept; not resolved); repeatable\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      alias: { type: "string", multiple: true },
      ...HOST_FLAG,
    });
    if (positionals.length !== 2) throw new UsageError("expects NETWORK and CONTAINER");
    const [network, container] = positionals as [string, string];
    await clientFor(values.host).call("POST", `/networks/${ref(network)}/connect`, {
      container,
      aliases: values.alias ?? [],
    });
    return 0;
  },
};

export const networkDisconnectCommand: Command = {
  name: "network disconnect",
  summary: "Take a container off a named network (off its last one, it is on weft again)",
  usage: `Usage: weft network disconnect NETWORK CONTAINER\n\nOptions:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    if (positionals.length !== 2) throw new UsageError("expects NETWORK and CONTAINER");
    const [network, container] = positionals as [string, string];
    await clientFor(values.host).call("POST", `/networks/${ref(network)}/disconnect`, { container });
    return 0;
  },
};
