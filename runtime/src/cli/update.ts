// `weft update`: new limits and restart policy for containers, as docker update; a running container's
// cgroup changes at once.
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import { clientFor, each, HOST_FLAG, HOST_USAGE, ref } from "./client";
import { parsePositive, parseSize } from "./units";

export const updateCommand: Command = {
  name: "update",
  summary: "Change the limits and restart policy of containers",
  usage: `Usage: weft update [OPTIONS] CONTAINER...

A running container's cgroup takes the new limits at once (runc update); they are kept for its
next starts. Limits not given stay as they are. The kernel refuses a memory limit below what the
app uses now.

Options:
  -m, --memory SIZE      memory limit, e.g. 256m
  --cpus N               CPU limit, e.g. 1.5
  --pids N               most processes at once (also --pids-limit)
  -c, --cpu-shares N     relative CPU weight under contention
  --restart POLICY       no, always, unless-stopped or on-failure[:N]
${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...HOST_FLAG,
      memory: { type: "string", short: "m" },
      cpus: { type: "string" },
      pids: { type: "string" },
      "pids-limit": { type: "string" },
      "cpu-shares": { type: "string", short: "c" },
      restart: { type: "string" },
    });
    const pids = values.pids ?? values["pids-limit"];
    const body = {
      memoryBytes: values.memory === undefined ? undefined : parseSize("--memory", values.memory),
      cpus: values.cpus === undefined ? undefined : parsePositive("--cpus", values.cpus, false),
      pids: pids === undefined ? undefined : parsePositive("--pids", pids, true),
      cpuShares:
        values["cpu-shares"] === undefined
          ? undefined
          : parsePositive("--cpu-shares", values["cpu-shares"], true),
      restart: values.restart,
    };
    if (Object.values(body).every((v) => v === undefined))
      throw new UsageError("nothing to update: give --memory, --cpus, --pids, --cpu-shares or --restart");
    const client = clientFor(values.host);
    return each("update", positionals, async (name) => {
      await client.call("POST", `/containers/${ref(name)}/update`, body);
      return name;
    });
  },
};
