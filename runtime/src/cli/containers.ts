// `weft inspect`, `weft logs`, `weft exec`, `weft stop`, `weft rm`: verbs on one (or more) existing containers.
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import type { ExecResult } from "../engine/types";
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

export const logsCommand: Command = {
  name: "logs",
  summary: "Print a container's stdout and stderr",
  usage: `Usage: weft logs CONTAINER\n\nPrints what the container wrote to stdout, then to stderr.\n\nOptions:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    if (positionals.length !== 1) throw new UsageError("expects exactly one CONTAINER");
    const client = clientFor(values.host);
    const name = ref(positionals[0]!);
    process.stdout.write((await client.call("GET", `/containers/${name}/logs?stdout=1&stderr=0`)).body);
    process.stderr.write((await client.call("GET", `/containers/${name}/logs?stdout=0&stderr=1`)).body);
    return 0;
  },
};

export const execCommand: Command = {
  name: "exec",
  summary: "Run a command in a running container",
  usage: `Usage: weft exec CONTAINER CMD...\n\nRuns CMD in the container, prints its output and exits with its code.\n\nOptions:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG, { stopAtPositional: true });
    const [name, ...cmd] = positionals;
    if (!name) throw new UsageError("missing CONTAINER");
    const args = cmd[0] === "--" ? cmd.slice(1) : cmd;
    if (args.length === 0) throw new UsageError("missing CMD");
    const result = await clientFor(values.host).json<ExecResult>("POST", `/containers/${ref(name)}/exec`, {
      cmd: args,
    });
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    return result.exitCode;
  },
};

export const stopCommand: Command = {
  name: "stop",
  summary: "Stop running containers (SIGTERM, then SIGKILL after the grace period)",
  usage: `Usage: weft stop [-t SECONDS] CONTAINER...\n\nOptions:\n  -t, --time SECONDS     grace period before SIGKILL (default 10)\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { time: { type: "string", short: "t" }, ...HOST_FLAG });
    if (positionals.length === 0) throw new UsageError("missing CONTAINER");
    const t = values.time ?? "10";
    if (!/^\d+$/.test(t)) throw new UsageError(`--time expects whole seconds, got "${t}"`);
    const client = clientFor(values.host);
    for (const name of positionals) {
      await client.call("POST", `/containers/${ref(name)}/stop?t=${t}`);
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
