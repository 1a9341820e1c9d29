// `weft top`: a container's processes, as docker top prints them (engine/top.ts finds them).
import { type Command, formatTable, parseFlags, UsageError } from "../../../cli/index";
import type { ProcessTable } from "../engine/top";
import { clientFor, HOST_FLAG, HOST_USAGE, ref } from "./client";

export const topCommand: Command = {
  name: "top",
  summary: "Show the processes running in a container",
  usage: `Usage: weft top CONTAINER [ps OPTIONS]\n\nThe container's processes as the host's ps prints them (default: ps -ef), as docker top:\n'weft top web aux', 'weft top web -o pid,rss,cmd'. The PIDs are the host's.\n\nOptions:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG, { stopAtPositional: true });
    const [name, ...psArgs] = positionals;
    if (name === undefined) throw new UsageError("missing CONTAINER");
    const query = psArgs.length > 0 ? `?ps_args=${encodeURIComponent(psArgs.join(" "))}` : "";
    const table = await clientFor(values.host).json<ProcessTable>(
      "GET",
      `/containers/${ref(name)}/top${query}`,
    );
    process.stdout.write(`${formatTable(table.titles, table.processes)}\n`);
    return 0;
  },
};
