// The CLI's connection to the daemon (--host, WEFT_HOST or the default socket), and docker's
// "are you sure" question for the prune commands, and verbs run on each named container.
import { createInterface } from "node:readline/promises";
import { parseFlags, UsageError } from "../../../cli/index";
import { EngineClient, resolveHost } from "../api/client";

export const HOST_FLAG = { host: { type: "string" as const } };

export const HOST_USAGE =
  "  --host unix://PATH     the daemon's socket (default $WEFT_HOST or unix:///run/weft/weft.sock)";

export function clientFor(host: string | undefined): EngineClient {
  return new EngineClient(resolveHost(host));
}

/** Encodes a container reference for a path segment. */
export function ref(name: string): string {
  return encodeURIComponent(name);
}

/** Docker's question on stdin; anything but y/yes (or no input at all) is no. */
export async function confirm(warning: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.on("close", () => resolve(""));
      rl.question(`${warning}\nAre you sure you want to continue? [y/N] `).then(resolve, () => resolve(""));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * A prune's removals, one after another: one that fails (taken into use since the list, removed by
 * someone else) is said on stderr as `command: why` and the rest go on; an unreachable daemon ends
 * it. Returns what was removed and the exit code (1 when any failed).
 */
export async function removeEach<T>(
  command: string,
  items: T[],
  remove: (item: T) => Promise<unknown>,
  name?: (item: T) => string,
): Promise<{ removed: T[]; code: number }> {
  const removed: T[] = [];
  let code = 0;
  for (const item of items) {
    try {
      await remove(item);
      removed.push(item);
    } catch (err) {
      if ((err as { code?: string }).code === "DAEMON_UNREACHABLE") throw err;
      const which = name ? `${name(item)}: ` : "";
      process.stderr.write(`${command}: ${which}${(err as Error).message}\n`);
      code = 1;
    }
  }
  return { removed, code };
}

/**
 * The run() of `weft volume rm` and `weft network rm`: DELETE each NAME under `collection` (the
 * API path, "volumes"), printing each one removed and naming each refusal; 1 when any failed.
 */
export function removeNamed(command: string, collection: string): (argv: string[]) => Promise<number> {
  return async (argv) => {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    if (positionals.length === 0) throw new UsageError("missing NAME");
    const client = clientFor(values.host);
    const { code } = await removeEach(command, positionals, async (name) => {
      await client.call("DELETE", `/${collection}/${ref(name)}`);
      process.stdout.write(`${name}\n`);
    });
    return code;
  };
}

/**
 * The start `weft volume prune` and `weft image prune` share, as docker's with --all: their flags;
 * without -a docker removes only what weft never has (anonymous volumes, dangling images), so
 * `nothing` is said and nothing done; then docker's question unless -f. Undefined: stop here.
 */
export async function pruneAllStart(
  argv: string[],
  nothing: string,
  warning: string,
): Promise<EngineClient | undefined> {
  const { values, positionals } = parseFlags(argv, {
    all: { type: "boolean", short: "a" },
    force: { type: "boolean", short: "f" },
    ...HOST_FLAG,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.all) {
    process.stdout.write(`${nothing}\n`);
    return undefined;
  }
  if (!values.force && !(await confirm(warning))) return undefined;
  return clientFor(values.host);
}

/**
 * A verb on each named container, each reported on its own line (its name, or `weft VERB: why` on
 * stderr): Docker's habit of reporting each failure and going on with the rest. Exit code 1 when any
 * failed; an unreachable daemon ends it.
 */
export async function each(
  verb: string,
  names: string[],
  fn: (name: string) => Promise<string>,
): Promise<number> {
  if (names.length === 0) throw new UsageError("missing CONTAINER");
  let code = 0;
  for (const name of names) {
    try {
      process.stdout.write(`${await fn(name)}\n`);
    } catch (err) {
      if ((err as { code?: string }).code === "DAEMON_UNREACHABLE") throw err;
      process.stderr.write(`weft ${verb}: ${(err as Error).message}\n`);
      code = 1;
    }
  }
  return code;
}
