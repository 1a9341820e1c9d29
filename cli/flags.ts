import { parseArgs } from "node:util";
import { UsageError } from "./command";

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
    throw new UsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ""));
  }
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
