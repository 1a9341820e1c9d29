// `weft`: collects the subcommands of every component and runs the one named on the command line.
import { controlPlaneCommands } from "../control-plane/src/index";
import { runtimeCommands } from "../runtime/src/index";
import { sidecarCommands } from "../sidecar/src/index";
import { type Command, UsageError } from "./command";
import { didYouMean } from "./did-you-mean";

const groups: Array<[string, Command[]]> = [
  ["Containers (talk to the daemon)", runtimeCommands],
  ["Mesh (talk to the control plane)", controlPlaneCommands],
  ["Sidecar", sidecarCommands],
];

/** One line per command, the summaries in one column. */
function commandLines(commands: Command[]): string[] {
  const width = Math.max(16, ...commands.map((c) => c.name.length));
  return commands.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`);
}

function help(): string {
  const lines = [
    "Usage: weft COMMAND [OPTIONS]",
    "",
    "Weft: a service mesh with its own container runtime.",
    "",
  ];
  for (const [title, commands] of groups) {
    if (commands.length === 0) continue;
    lines.push(`${title}:`, ...commandLines(commands), "");
  }
  lines.push("Run 'weft COMMAND --help' for more on a command.");
  return lines.join("\n");
}

/** The commands under a group word ("network" has "network ls", "network rm", ...). */
function groupOf(word: string | undefined): Command[] {
  return groups.flatMap(([, commands]) => commands.filter((c) => c.name.startsWith(`${word} `)));
}

/** The command whose name matches the most leading words of argv ("image import" before "image"). */
function find(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  let bestWords = 0;
  for (const [, commands] of groups) {
    for (const command of commands) {
      const words = command.name.split(" ");
      if (words.length > bestWords && words.every((w, i) => argv[i] === w)) {
        best = { command, rest: argv.slice(words.length) };
        bestWords = words.length;
      }
    }
  }
  return best;
}

export async function main(argv: string[]): Promise<number> {
  // `weft logs -f | head`: the reader went away; stop quietly, as Unix tools do.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    process.stdout.write(`${help()}\n`);
    return 0;
  }
  if (argv[0] === "--version" || argv[0] === "version") {
    process.stdout.write("weft 0.1.0\n");
    return 0;
  }
  const found = find(argv);
  const group = found ? [] : groupOf(argv[0]);
  if (group.length > 0) {
    // `weft network` alone or with --help: its commands, as `docker network` prints them.
    const asked = argv.length === 1 || argv[1] === "--help" || argv[1] === "-h";
    const text = `Usage: weft ${argv[0]} COMMAND\n\nCommands:\n${commandLines(group).join("\n")}\n\nRun 'weft ${argv[0]} COMMAND --help' for more on a command.\n`;
    if (asked) process.stdout.write(text);
    else {
      const near = didYouMean(
        argv[1] ?? "",
        group.map((c) => c.name.split(" ")[1] ?? ""),
      );
      const hint = near ? ` (did you mean "${argv[0]} ${near}"?)` : "";
      process.stderr.write(`weft: unknown command "${argv[0]} ${argv[1]}"${hint}\n\n${text}`);
    }
    return asked ? 0 : 2;
  }
  if (!found) {
    process.stderr.write(`weft: unknown command "${argv.join(" ")}"; run 'weft --help' for the list\n`);
    return 2;
  }
  const { command, rest } = found;
  if (rest.includes("--help") || rest.includes("-h")) {
    const beforeDoubleDash = rest.indexOf("--") === -1 ? rest : rest.slice(0, rest.indexOf("--"));
    if (beforeDoubleDash.includes("--help") || beforeDoubleDash[0] === "-h") {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`weft ${command.name}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    const e = err as Error & { code?: string; exitCode?: unknown };
    process.stderr.write(`weft ${command.name}: ${e.message}\n`);
    if (process.env.WEFT_DEBUG) process.stderr.write(`${e.stack}\n`);
    // A command may say how it failed (weft run exits as docker run: 125, 126, 127).
    return typeof e.exitCode === "number" ? e.exitCode : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Long-running commands (daemon, control-plane, sidecar) never resolve; the rest exit here.
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`weft: ${(err as Error).stack}\n`);
    process.exitCode = 1;
  },
);
