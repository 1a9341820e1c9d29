// `weft top`: a container's processes as the host's `ps` prints them, as `docker top` does it: ps
// runs on the host with the user's options (default -ef) and only the rows of the container's
// processes are kept. A container's processes are those in its app's PID namespace: the app and its
// children, and whatever `weft exec` started; not its sidecar, which shares only its network.
import { execFile } from "node:child_process";
import { readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { RuntimeError } from "../errors";

export interface ProcessTable {
  /** ps's header, one title per column. */
  titles: string[];
  /** One row per process; the last column (the command) keeps its spaces. */
  processes: string[][];
}

export interface TopOptions {
  /** Default /proc. */
  procRoot?: string;
  /** Runs `ps ARGS` and resolves with its output. Default: the host's ps. */
  runPs?: (args: string[]) => Promise<string>;
}

const PS_ARG = /^[A-Za-z0-9,=:_%+-]+$/;

export async function containerProcesses(
  appPid: number,
  psArgs: string[],
  o: TopOptions = {},
): Promise<ProcessTable> {
  const args = psArgs.length > 0 ? psArgs : ["-ef"];
  // Each argument goes to ps as one word (no shell); still, only what ps options look like.
  for (const a of args) {
    if (!PS_ARG.test(a)) throw new RuntimeError("INVALID_ARGUMENT", `"${a}" is not a ps option`);
  }
  const procRoot = o.procRoot ?? "/proc";
  const pids = await pidsInNamespaceOf(appPid, procRoot);
  // -e first: ps's default selection is this terminal's processes (none, for a daemon), and the
  // rows are narrowed to the container's below anyway. It goes with -ef, aux and -o alike.
  const output = await (o.runPs ?? runHostPs)(["-e", ...args]);
  return keepRows(output, pids, args);
}

/** The pids (as the host sees them) whose PID namespace is the one `pid` is in. */
async function pidsInNamespaceOf(pid: number, procRoot: string): Promise<Set<number>> {
  const ns = await readlink(join(procRoot, String(pid), "ns", "pid")).catch(() => {
    throw new RuntimeError("CONTAINER_NOT_RUNNING", `process ${pid} is gone: the container is not running`);
  });
  const pids = new Set<number>();
  for (const entry of await readdir(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    // A process that ends while this looks is not listed.
    const other = await readlink(join(procRoot, entry, "ns", "pid")).catch(() => undefined);
    if (other === ns) pids.add(Number(entry));
  }
  return pids;
}

function keepRows(output: string, pids: Set<number>, args: string[]): ProcessTable {
  const [header = "", ...lines] = output.split("\n").filter((l) => l.trim() !== "");
  const titles = header.trim().split(/\s+/);
  const pidColumn = titles.indexOf("PID");
  if (pidColumn < 0) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `ps ${args.join(" ")} prints no PID column, so the container's processes cannot be told apart: use options that print it (-ef, aux)`,
    );
  }
  const processes: string[][] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    // The last title's column (the command) is the rest of the line, spaces and all.
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(" ")];
    if (pids.has(Number(row[pidColumn]))) processes.push(row);
  }
  return { titles, processes };
}

function runHostPs(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("ps", args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      reject(
        new RuntimeError(
          missing ? "INTERNAL" : "INVALID_ARGUMENT",
          missing
            ? "ps is not installed on the daemon's host: apt-get install procps"
            : `ps ${args.join(" ")} failed: ${stderr.trim() || err.message}`,
        ),
      );
    }),
  );
}
