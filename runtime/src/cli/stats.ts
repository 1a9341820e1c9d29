// `weft stats`: live CPU, memory, network and pids of running containers, as `docker stats` shows them.
import { type Command, formatTable, GoTemplate, parseFlags, UsageError } from "../../../cli/index";
import type { ContainerState, ContainerStats } from "../engine/types";
import { clientFor, HOST_FLAG, HOST_USAGE, ref } from "./client";

const USAGE = `Usage: weft stats [--no-stream] [--format TEMPLATE | --json] [CONTAINER...]

Shows live usage of the given containers, or of every running one, refreshed every second.

Options:
  --no-stream        print one sample and exit
  --format TEMPLATE  each container through a Go template, as docker stats: fields Container, ID,
                     Name, CPUPerc, MemUsage, MemPerc, NetIO, PIDs ("table " adds headers)
  --json             print the samples as JSON (implies --no-stream)
${HOST_USAGE}`;

/** Docker's units (go-units, 4 significant digits): 1.5MiB / 64MiB for memory, 1.2kB for network. */
export function binarySize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** Decimal units with `digits` significant digits: `docker stats` shows 4, `docker images` 3 ("106MB"). */
export function decimalSize(bytes: number, digits = 4): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(digits))}${units[i]}`;
}

export function statsRow(s: ContainerStats): string[] {
  return [
    s.id.slice(0, 12),
    s.name,
    `${s.cpuPercent.toFixed(2)}%`,
    `${binarySize(s.memoryBytes)} / ${binarySize(s.memoryLimitBytes)}`,
    `${s.memoryPercent.toFixed(2)}%`,
    `${decimalSize(s.netRxBytes)} / ${decimalSize(s.netTxBytes)}`,
    String(s.pids),
  ];
}

/** A sample as `weft stats --format` reads it: docker stats's field names. */
function statsFields(s: ContainerStats) {
  const [id, name, cpu, mem, memPerc, net, pids] = statsRow(s);
  return {
    Container: id,
    ID: id,
    Name: name,
    CPUPerc: cpu,
    MemUsage: mem,
    MemPerc: memPerc,
    NetIO: net,
    PIDs: pids,
  };
}

/** docker stats's column names for its --format fields. */
const STATS_FORMAT_HEADERS: Record<string, string> = {
  container: "CONTAINER",
  id: "CONTAINER ID",
  name: "NAME",
  cpuperc: "CPU %",
  memusage: "MEM USAGE / LIMIT",
  memperc: "MEM %",
  netio: "NET I/O",
  pids: "PIDS",
};

export const STATS_HEADERS = [
  "CONTAINER ID",
  "NAME",
  "CPU %",
  "MEM USAGE / LIMIT",
  "MEM %",
  "NET I/O",
  "PIDS",
];

export const statsCommand: Command = {
  name: "stats",
  summary: "Show live resource usage of containers",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      "no-stream": { type: "boolean" },
      format: { type: "string" },
      json: { type: "boolean" },
      ...HOST_FLAG,
    });
    if (values.format !== undefined && values.json) throw new UsageError("give --format or --json, not both");
    const template = values.format === undefined ? undefined : new GoTemplate(values.format);
    const render = (samples: ContainerStats[]) =>
      template
        ? template.renderAll(samples.map(statsFields), (f) => STATS_FORMAT_HEADERS[f.toLowerCase()])
        : `${formatTable(STATS_HEADERS, samples.map(statsRow))}\n`;
    const client = clientFor(values.host);
    const sample = async (): Promise<ContainerStats[]> => {
      const names =
        positionals.length > 0
          ? positionals
          : (await client.json<ContainerState[]>("GET", "/containers/json")).map((c) => c.name);
      // In parallel: each sample takes about half a second on the daemon.
      const out = await Promise.all(
        names.map((n) =>
          client.json<ContainerStats>("GET", `/containers/${ref(n)}/stats`).catch((err: Error) => {
            // A container that stopped between the list and the sample is left out, unless named.
            if (positionals.length > 0) throw err;
            return undefined;
          }),
        ),
      );
      return out.filter((s): s is ContainerStats => s !== undefined);
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(await sample(), null, 2)}\n`);
      return 0;
    }
    if (values["no-stream"]) {
      process.stdout.write(render(await sample()));
      return 0;
    }
    for (;;) {
      const samples = await sample();
      // Clear the screen and home the cursor, as docker stats does on a terminal.
      process.stdout.write(`\x1b[2J\x1b[H${render(samples)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  },
};
