// What every `weft` subcommand is. Subcommands live with the component that owns them and are
// collected by cli/main.ts from each component's index.ts.

export interface Command {
  /** The words that select it, e.g. "run" or "image import". */
  name: string;
  /** One line for `weft --help`. */
  summary: string;
  /** Full usage text for `weft NAME --help`. */
  usage: string;
  /** Runs with the arguments after the name; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** Wrong arguments: main prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
