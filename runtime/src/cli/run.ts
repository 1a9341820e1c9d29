// `weft run` and `weft create`: make a container (and start it: always detached; -d is accepted for
// Docker habits).
import { type Command, parseFlags } from "../../../cli/index";
import { clientFor, HOST_USAGE } from "./client";
import { RUN_FLAGS, RUN_OPTIONS_USAGE, runBody } from "./run-options";

const USAGE = `Usage: weft run [OPTIONS] IMAGE [CMD...]

Creates and starts a container with a sidecar in its network namespace; prints its id.

Options:
${RUN_OPTIONS_USAGE}${HOST_USAGE}`;

async function make(argv: string[], start: boolean): Promise<number> {
  const { values, positionals } = parseFlags(argv, RUN_FLAGS, { stopAtPositional: true });
  const body = runBody(values, positionals);
  const client = clientFor(values.host);
  const query = new URLSearchParams();
  if (values.name) query.set("name", values.name);
  if (!start) query.set("start", "0");
  const q = query.size > 0 ? `?${query}` : "";
  const created = await client.json<{ Id: string }>("POST", `/containers/create${q}`, body);
  process.stdout.write(`${created.Id}\n`);
  return 0;
}

export const runCommand: Command = {
  name: "run",
  summary: "Create and start a container",
  usage: USAGE,
  run: (argv) => make(argv, true),
};

export const createCommand: Command = {
  name: "create",
  summary: "Create a container without starting it ('weft start' starts it)",
  usage: USAGE.replace("Usage: weft run", "Usage: weft create").replace(
    "Creates and starts a container",
    "Creates (does not start) a container",
  ),
  run: (argv) => make(argv, false),
};
