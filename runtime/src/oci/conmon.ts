// The per-container monitor: conmon (the Debian package Podman uses) runs `runc create`, then stays
// behind as the app's parent. It holds the app's stdio (written to a k8s-file log) and writes the exit
// code to EXIT_DIR/ID, so both survive the daemon. It daemonizes itself: the process we spawn exits at
// once; the monitor reports the app's pid on the sync pipe (fd 3, _OCI_SYNCPIPE), as it does for Podman.
import { closeSync, constants, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { readTextOrEmpty } from "../sys/files";
import { type SpawnedProcess, spawnProcess } from "../sys/spawn";
import { RuncError } from "./runc";
import { commandHint } from "./start-errors";

export interface ConmonCreate {
  id: string;
  name: string;
  /** The OCI bundle (config.json, rootfs); conmon also keeps its ctl/winsz fifos there. */
  bundle: string;
  /** k8s-file log of the app's stdout and stderr. */
  logPath: string;
  /** conmon writes the app's exit code to EXIT_DIR/ID. */
  exitDir: string;
  /** Rotate (truncate) the log past this size; default no limit. */
  logSizeMaxBytes?: number;
  /** A terminal for the app (config.json must say process.terminal). */
  tty?: boolean;
  /** Give the app a stdin that the attach socket feeds. */
  interactive?: boolean;
  /** With interactive and no tty: the first attached client's EOF closes the app's stdin (docker
   * run -i). Otherwise the app's stdin stays open across attaches. */
  stdinOnce?: boolean;
}

export interface ConmonOptions {
  /** runc's --root (under the daemon's state dir). */
  runcRoot: string;
  /** Default /usr/bin/conmon. */
  binary?: string;
  /** Default /usr/sbin/runc. */
  runtime?: string;
}

/** What conmon writes on the sync pipe: the app's pid, or -1 and runc's error. */
interface SyncMessage {
  data: number;
  message?: string;
}

const SYNC_TIMEOUT_MS = 60_000;

export class Conmon {
  constructor(private readonly o: ConmonOptions) {}

  /** Runs `runc create` under a new conmon; resolves with the app's pid (created, not started). */
  async create(c: ConmonCreate): Promise<number> {
    mkdirSync(c.exitDir, { recursive: true, mode: 0o700 });
    rmSync(join(c.exitDir, c.id), { force: true });
    const pidFile = join(c.bundle, "pidfile");
    const runcLog = join(c.bundle, "runc.log");
    rmSync(pidFile, { force: true });
    rmSync(runcLog, { force: true });
    const args = [
      "--api-version",
      "1",
      "-c",
      c.id,
      "-u",
      c.id,
      "-n",
      c.name,
      "-r",
      this.o.runtime ?? "/usr/sbin/runc",
      "-b",
      c.bundle,
      "-p",
      pidFile,
      "-l",
      `k8s-file:${c.logPath}`,
      "--exit-dir",
      c.exitDir,
      "--conmon-pidfile",
      join(c.bundle, "conmon.pid"),
      "--socket-dir-path",
      join(c.bundle, "attach"),
      "--full-attach",
      "--log-level",
      "error",
      "--runtime-arg",
      "--root",
      "--runtime-arg",
      this.o.runcRoot,
      "--runtime-arg",
      "--log",
      "--runtime-arg",
      runcLog,
      "--runtime-arg",
      "--log-format",
      "--runtime-arg",
      "json",
    ];
    if (c.logSizeMaxBytes) args.push("--log-size-max", String(c.logSizeMaxBytes));
    if (c.tty) args.push("-t");
    if (c.interactive) {
      args.push("-i");
      // As Docker: only a stdin-once app without a terminal sees EOF when its client's input ends.
      if (!c.stdinOnce || c.tty) args.push("--leave-stdin-open");
    }
    // conmon's own stderr goes to a file, not a pipe: a pipe breaks when the daemon dies, and a
    // monitor that then writes a warning would die of SIGPIPE with the app's exit code.
    const conmonLog = join(c.bundle, "conmon.log");
    const errFd = openSync(conmonLog, "w", 0o600);
    let child: SpawnedProcess;
    try {
      child = spawnProcess(this.o.binary ?? "/usr/bin/conmon", args, {
        stdio: ["ignore", "ignore", errFd, "pipe"],
        env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", _OCI_SYNCPIPE: "3" },
      });
    } catch (err) {
      throw new RuncError(
        "RUNC_FAILED",
        `cannot start conmon: ${(err as Error).message}; install the conmon package`,
      );
    } finally {
      closeSync(errFd);
    }
    const msg = await readSync(child.stdio[3] as Readable).catch((err: Error) => {
      child.kill("SIGKILL");
      throw err;
    });
    // conmon passes runc's own error on, so the same words often come twice: said once.
    const detail = () =>
      [msg?.message, runcErrors(runcLog), readTextOrEmpty(conmonLog)]
        .map((part) => (part ?? "").trim())
        .filter((part, i, all) => part !== "" && !all.slice(0, i).some((earlier) => earlier.includes(part)))
        .join("; ");
    if (!msg || msg.data <= 0) {
      throw new RuncError(
        "RUNC_FAILED",
        `runc create ${c.id} failed: ${detail() || "conmon reported no pid"}; ${hint(detail())}`,
        detail(),
      );
    }
    return msg.data;
  }
}

/** After the last resize of a burst, its size is written once more, alone (see resizeConsole). */
const RESIZE_SETTLE_MS = 150;
const settling = new Map<string, NodeJS.Timeout>();

/** Resizes the app's terminal through the monitor's control fifo (BUNDLE/ctl: "1 ROWS COLS"). False
 * when no monitor listens (the app is not running). conmon accepts 0 to 1000 each.
 *
 * conmon 2.1.6 (Debian bookworm's) parses every line of one read from the start of its buffer, both
 * on this fifo and on the winsz fifo it relays sizes through, so two sizes that arrive before it reads
 * both apply the first. `docker attach` sends one row and column more and then the real size, at
 * once; the terminal kept the wrong one. So the latest size of each burst is written again once
 * RESIZE_SETTLE_MS have passed without another: alone in the fifo, it is read right, and when it is
 * already the terminal's size the kernel does nothing (no second SIGWINCH). */
export function resizeConsole(bundle: string, rows: number, cols: number): boolean {
  const clamp = (n: number) => Math.max(0, Math.min(1000, Math.floor(n)));
  const size = `1 ${clamp(rows)} ${clamp(cols)}\n`;
  if (!writeCtl(bundle, size)) return false;
  clearTimeout(settling.get(bundle));
  const timer = setTimeout(() => {
    settling.delete(bundle);
    writeCtl(bundle, size);
  }, RESIZE_SETTLE_MS);
  timer.unref();
  settling.set(bundle, timer);
  return true;
}

function writeCtl(bundle: string, message: string): boolean {
  let fd: number;
  try {
    // Non-blocking: a fifo nobody reads would block the open for ever (ENXIO instead).
    fd = openSync(join(bundle, "ctl"), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    writeSync(fd, message);
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** The pid of a running monitor, from its pid file; undefined when gone. */
export function conmonPid(bundle: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(bundle, "conmon.pid"), "utf8"), 10);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** The first JSON line on the sync pipe; conmon keeps the pipe open while the app runs, so stop there. */
function readSync(pipe: Readable): Promise<SyncMessage | undefined> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      finish();
      reject(new RuncError("RUNC_FAILED", `conmon said nothing within ${SYNC_TIMEOUT_MS} ms`));
    }, SYNC_TIMEOUT_MS);
    const finish = () => {
      clearTimeout(timer);
      pipe.removeAllListeners("data");
      pipe.destroy();
    };
    pipe.on("data", (b: Buffer) => {
      text += b.toString();
      const nl = text.indexOf("\n");
      if (nl < 0) return;
      finish();
      try {
        resolve(JSON.parse(text.slice(0, nl)) as SyncMessage);
      } catch {
        resolve(undefined);
      }
    });
    pipe.once("end", () => {
      finish();
      resolve(undefined);
    });
    pipe.once("error", () => {
      finish();
      resolve(undefined);
    });
  });
}

function runcErrors(logFile: string): string {
  const log = readTextOrEmpty(logFile);
  const msgs: string[] = [];
  for (const line of log.split("\n")) {
    try {
      const e = JSON.parse(line) as { level?: string; msg?: string };
      if ((e.level === "error" || e.level === "fatal") && e.msg) msgs.push(e.msg);
    } catch {
      // partial line
    }
  }
  return msgs.join("; ");
}

function hint(detail: string): string {
  const command = commandHint(detail);
  if (command) return command;
  if (/cgroup/.test(detail)) return "check the cgroup parent and the resource limits";
  return "see the bundle's config.json and runc.log";
}
