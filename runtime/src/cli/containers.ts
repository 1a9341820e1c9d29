// `weft inspect`, `weft stop`, `weft rm`: verbs on one (or more) existing containers.
import { type Command, GoTemplate, parseFlags, UsageError } from "../../../cli/index";
import { clientFor, HOST_FLAG, HOST_USAGE, ref } from "./client";

export const inspectCommand: Command = {
  name: "inspect",
  summary: "Print a container's (or an image's) full record as JSON",
  usage:
    "Usage: weft inspect [-f TEMPLATE] [--type container|image] NAME|ID...\n\n" +
    "One record is printed as a JSON object, several as a list. As docker inspect, a NAME that is no\n" +
    "container is looked up among the images (weft image inspect prints only images).\n\n" +
    "Options:\n" +
    "  -f, --format TEMPLATE  each record through a Go template, as docker inspect -f: its fields are the\n" +
    "                         record's (weft inspect NAME shows them), in any case: '{{.Status}}',\n" +
    "                         '{{.Address}}', '{{index .Labels \"weft.project\"}}', '{{json .Ports}}'\n" +
    "  --type TYPE            only a container, or only an image\n" +
    HOST_USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      format: { type: "string", short: "f" },
      type: { type: "string" },
      ...HOST_FLAG,
    });
    if (positionals.length === 0) throw new UsageError("missing NAME");
    const type = values.type;
    if (type !== undefined && type !== "container" && type !== "image") {
      throw new UsageError(`--type expects container or image, got "${type}"`);
    }
    const template = values.format === undefined ? undefined : new GoTemplate(values.format);
    const client = clientFor(values.host);
    const states: unknown[] = [];
    for (const name of positionals) states.push(await inspectOne(client, name, type));
    if (template) process.stdout.write(template.renderAll(states));
    else process.stdout.write(`${JSON.stringify(states.length === 1 ? states[0] : states, null, 2)}\n`);
    return 0;
  },
};

/** A container's record, else (unless `type` says container) an image's, as docker inspect looks. */
async function inspectOne(
  client: ReturnType<typeof clientFor>,
  name: string,
  type: "container" | "image" | undefined,
): Promise<unknown> {
  const missing = (err: unknown) => (err as { status?: number }).status === 404;
  if (type !== "image") {
    try {
      return await client.json<unknown>("GET", `/containers/${ref(name)}/json`);
    } catch (err) {
      if (type === "container" || !missing(err)) throw err;
    }
  }
  try {
    return await client.json<unknown>("GET", `/images/${ref(name)}/json`);
  } catch (err) {
    if (type === "image" || !missing(err)) throw err;
    throw new Error(`no such container or image "${name}"; list them with 'weft ps -a' and 'weft image ls'`);
  }
}

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
