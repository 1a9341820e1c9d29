// `weft inspect`, `weft stop`, `weft rm`: verbs on one (or more) existing containers.
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import { clientFor, HOST_FLAG, HOST_USAGE, ref } from "./client";

export const inspectCommand: Command = {
  name: "inspect",
  summary: "Print a container's full record as JSON",
  usage: `Usage: weft inspect CONTAINER\n\nOptions:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    if (positionals.length !== 1) throw new UsageError("expects exactly one CONTAINER");
    const state = await clientFor(values.host).json<unknown>(
      "GET",
      `/containers/${ref(positionals[0]!)}/json`,
    );
    process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
    return 0;
  },
};

export const stopCommand: Command = {
  name: "stop",
  summary: "Stop running containers (SIGTERM, then SIGKILL after the grace period)",
  usage: `Usage: weft stop [-t SECONDS] CONTAINER...\n\nOptions:\n  -t, --time SECONDS     grace period before SIGKILL (default the container's --stop-timeout, 10)\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { time: { type: "string", short: "t" }, ...HOST_FLAG });
    if (positionals.length === 0) throw new UsageError("missing CONTAINER");
    const t = values.time;
    if (t !== undefined && !/^\d+$/.test(t)) throw new UsageError(`--time expects whole seconds, got "${t}"`);
    const client = clientFor(values.host);
    for (const name of positionals) {
      await client.call("POST", `/containers/${ref(name)}/stop${t === undefined ? "" : `?t=${t}`}`);
      process.stdout.write(`${name}\n`);
    }
    return 0;
  },
};

export const rmCommand: Command = {
  name: "rm",
  summary: "Remove containers and everything made for them",
  usage: `Usage: weft rm [-f] CONTAINER...\n\nOptions:\n  -f, --force            stop a running container first\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      force: { type: "boolean", short: "f" },
      ...HOST_FLAG,
    });
    if (positionals.length === 0) throw new UsageError("missing CONTAINER");
    const client = clientFor(values.host);
    let code = 0;
    for (const name of positionals) {
      try {
        await client.call("DELETE", `/containers/${ref(name)}${values.force ? "?force=1" : ""}`);
        process.stdout.write(`${name}\n`);
      } catch (err) {
        // Docker's habit: report each failure and go on with the rest.
        if ((err as { code?: string }).code === "DAEMON_UNREACHABLE") throw err;
        process.stderr.write(`weft rm: ${(err as Error).message}\n`);
        code = 1;
      }
    }
    return code;
  },
};
