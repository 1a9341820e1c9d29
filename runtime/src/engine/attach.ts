// Attaching to a container's app: output from the monitor's log (followed, so every byte is shown
// once, also what the app wrote before a slow client connected) and, for an app made with -i, input
// through the monitor's attach socket. Attaching to a created container works (the `run -i` order:
// attach, then start): input waits until the app runs.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { RuntimeError } from "../errors";
import { streamLog } from "./logs";
import type { Clock, EngineParts, Logger } from "./parts";
import { monitorPaths } from "./start-container";
import type { ContainerState, LogEntry } from "./types";

/** How often an attached client's output is read from the log: short, a shell is typed into. */
const ATTACH_POLL_MS = 40;

export interface AttachOptions {
  /** Also what the app wrote before this attach (Docker's logs=1); default only new output. */
  logs?: boolean;
  /** Ends the output and drops the input (the client went away). */
  signal?: AbortSignal;
}

export interface Attached {
  /** The app's stdin; only for a container made with interactive (-i). */
  stdin?: Writable;
  output: AsyncIterable<LogEntry>;
}

export interface AttachContext {
  parts: EngineParts;
  clock: Clock;
  logger: Logger;
  containerDir: (id: string) => string;
  /** The container's current state; undefined once removed. */
  current: (id: string) => ContainerState | undefined;
}

export function attachTo(ctx: AttachContext, state: ContainerState, o: AttachOptions): Attached {
  const dir = ctx.containerDir(state.id);
  // An exit that had happened before this attach does not end it: `docker start -a` attaches to a
  // stopped container, then starts it.
  const exitBefore = state.status === "exited" ? (state.finishedAt ?? "") : undefined;
  const ended = (s: ContainerState | undefined) =>
    s === undefined || (s.status === "exited" && (s.finishedAt ?? "") !== exitBefore);
  const gone = () => ended(ctx.current(state.id));
  const output = streamLog(
    monitorPaths(dir, state.id).logPath,
    { stdout: true, stderr: true, follow: true, tail: o.logs ? undefined : 0 },
    {
      done: gone,
      sleep: (ms) => ctx.clock.sleep(ms),
      pollMs: ATTACH_POLL_MS,
      signal: o.signal,
    },
  );
  const attachStdin = ctx.parts.runc.attachStdin;
  if (!state.interactive || !attachStdin) return { output };
  // The monitor's socket is there once the app was created under it and started.
  const ready = async () => {
    for (;;) {
      if (o.signal?.aborted) return false;
      const s = ctx.current(state.id);
      if (ended(s)) return false;
      if (s?.status === "running" && existsSync(join(dir, "attach"))) return true;
      await ctx.clock.sleep(ATTACH_POLL_MS);
    }
  };
  const stdin = attachStdin(dir, ready, (message) => ctx.logger.warn(`attach to ${state.name}: ${message}`));
  stdin.on("error", () => undefined);
  return { stdin, output };
}

/** Resizes the app's terminal. A container without one ignores it, as Docker does. */
export function resizeTerminal(
  parts: EngineParts,
  dir: string,
  state: ContainerState,
  rows: number,
  cols: number,
): void {
  if (!state.tty) return;
  if (state.status !== "running" || !parts.runc.resize?.(dir, rows, cols)) {
    throw new RuntimeError(
      "CONTAINER_NOT_RUNNING",
      `container "${state.name}" is not running; its terminal cannot be resized`,
    );
  }
}
