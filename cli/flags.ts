import { parseArgs } from "node:util";
import { UsageError } from "./command";
import { didYouMean } from "./did-you-mean";

type OptionSpec = {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
};

/**
 * util.parseArgs with errors a user can act on. Stops at the first positional when
 * `stopAtPositional` is set (for `run IMAGE CMD...` and `exec NAME CMD...`, whose command may
 * carry its own flags).
 */
export function parseFlags<T extends Record<string, OptionSpec>>(
  argv: string[],
  options: T,
  opts: { stopAtPositional?: boolean } = {},
): {
  values: {
    [K in keyof T]: T[K]["multiple"] extends true
      ? string[]
      : T[K]["type"] extends "boolean"
        ? boolean
        : string | undefined;
  };
  positionals: string[];
} {
  let args = argv;
  let rest: string[] = [];
  if (opts.stopAtPositional) {
    const split = firstPositional(argv, options);
    if (split >= 0) {
      args = argv.slice(0, split + 1);
      rest = argv.slice(split + 1);
    }
  }
  try {
    const parsed = parseArgs({ args, options: options as never, allowPositionals: true, strict: true });
    return { values: parsed.values as never, positionals: [...parsed.positionals, ...rest] };
  } catch (err) {
    throw new UsageError(parseError(err as Error & { code?: string }, options));
  }
}

/** parseArgs' message, but an unknown option is named as docker names one ("unknown flag"), with
 * the option meant when it is a near miss: parseArgs adds advice about positionals that start
 * with '-', which is not what a mistyped flag needs. */
function parseError(err: Error & { code?: string }, options: Record<string, OptionSpec>): string {
  const unknown =
    err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && /^Unknown option '([^']+)'/.exec(err.message);
  if (!unknown) return err.message.replace(/^TypeError \[[A-Z_]+\]: /, "");
  const flag = unknown[1]!;
  const near = nearestOption(flag, options);
  return `unknown option ${flag}${near ? ` (did you mean ${near}?)` : ""}`;
}

/** The long option `flag` is a typo of, if one is close. */
function nearestOption(flag: string, options: Record<string, OptionSpec>): string | undefined {
  if (!flag.startsWith("--")) return undefined;
  const near = didYouMean(flag.slice(2), Object.keys(options));
  return near === undefined ? undefined : `--${near}`;
}

function firstPositional(argv: string[], options: Record<string, OptionSpec>): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return i;
    if (!arg.startsWith("-") || arg === "-") return i;
    if (arg.includes("=")) continue;
    const name = arg.startsWith("--")
      ? arg.slice(2)
      : Object.keys(options).find((k) => options[k]!.short === arg.slice(1));
    const spec = name ? options[name] : undefined;
    if (spec?.type === "string") i++;
  }
  return -1;
}

/** Parses repeated K=V flags (--label, -e) into a record; throws UsageError naming the flag. */
export function keyValues(flag: string, items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag} expects KEY=VALUE, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
