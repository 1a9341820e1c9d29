// `weft run` and `weft create`: make a container (and start it). As `docker run`: attached unless -d
// (the app's output here, its exit code weft's, this terminal's input with -i), in the order Docker
// uses: create, attach, start, so none of the app's first output is missed. With -d, or for create,
// the container's id is printed and weft returns.
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "../api/detach-keys";
import { runExitCode } from "../oci/start-errors";
import { attachSession } from "./attach-session";
import { clientFor, HOST_USAGE, ref } from "./client";
import { RUN_FLAGS, RUN_OPTIONS_USAGE, runBody } from "./run-options";

const USAGE = `Usage: weft run [OPTIONS] IMAGE [CMD...]

Creates and starts a container with a sidecar in its network namespace. As docker run, it stays
attached: the app's output comes here and weft exits with the app's exit code; ctrl-c and other
signals go to the app (without -t); with -i this terminal's input goes to the app, and ctrl-p ctrl-q
detaches and leaves it running. With -d it runs in the background and its id is printed.

Options:
${RUN_OPTIONS_USAGE}${HOST_USAGE}`;

/** As make(), failing with docker run's exit codes: 125 weft's own failure, 126/127 the command's. */
async function makeOrExit(argv: string[], start: boolean): Promise<number> {
  try {
    return await make(argv, start);
  } catch (err) {
    if (err instanceof UsageError || !(err instanceof Error)) throw err;
    throw Object.assign(err, { exitCode: runExitCode(err.message) });
  }
}

async function make(argv: string[], start: boolean): Promise<number> {
  const { values, positionals } = parseFlags(argv, RUN_FLAGS, { stopAtPositional: true });
  const body = runBody(values, positionals);
  const client = clientFor(values.host);
  const attach = start && !values.detach;
  const detachKeys = parseDetachKeys(values["detach-keys"] ?? DEFAULT_DETACH_KEYS);
  if (attach && values.interactive && values.tty && !process.stdin.isTTY) {
    throw new UsageError("the input device is not a TTY; use -i without -t to pipe input to the app");
  }
  if (attach) {
    // As `docker run -i`: the end of this input is the end of the app's.
    body.stdinOnce = values.interactive === true;
    const rows = process.stdout.rows;
    const cols = process.stdout.columns;
    if (values.tty && process.stdout.isTTY && rows && cols) body.consoleSize = { rows, cols };
  }
  const query = new URLSearchParams();
  if (values.name) query.set("name", values.name);
  if (!start || attach) query.set("start", "0");
  const q = query.size > 0 ? `?${query}` : "";
  const created = await client.json<{ Id: string }>("POST", `/containers/create${q}`, body);
  if (!attach) {
    process.stdout.write(`${created.Id}\n`);
    return 0;
  }
  let started = false;
  try {
    return await attachSession(client, created.Id, {
      stdin: values.interactive === true,
      tty: values.tty === true,
      logs: true,
      detachKeys,
      afterAttach: async () => {
        await client.call("POST", `/containers/${ref(created.Id)}/start`);
        started = true;
      },
    });
  } catch (err) {
    // Nothing half-made: a container that never ran goes; the error says why it did not.
    if (!started)
      await client.call("DELETE", `/containers/${ref(created.Id)}?force=1`).catch(() => undefined);
    throw err;
  }
}

export const runCommand: Command = {
  name: "run",
  summary: "Create and start a container",
  usage: USAGE,
  run: (argv) => makeOrExit(argv, true),
};

export const createCommand: Command = {
  name: "create",
  summary: "Create a container without starting it ('weft start' starts it)",
  usage: `Usage: weft create [OPTIONS] IMAGE [CMD...]

Creates a container with a sidecar in its network namespace without starting it, and prints its id;
'weft start' starts it ('weft start -a' attached).

Options:
${RUN_OPTIONS_USAGE}${HOST_USAGE}`,
  run: (argv) => makeOrExit(argv, false),
};
