// Starting a container that `runc create` left waiting, without a `runc start` process. runc's init
// waits to open ROOT/ID/exec.fifo for writing; `runc start` opens it for reading, reads what init
// writes, and removes it (runc tells "created" from "running" by whether the fifo is still there).
// Doing the same here saves a Go process start on every container start (~30-40 ms on a busy 2-core
// host, where a fork+exec alone blocks the daemon's event loop for ~8 ms). runc's own "start" does
// nothing more for a container without a NOTIFY_SOCKET, which the daemon never sets.
import { closeSync, constants, existsSync, openSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { processRuns } from "../sys/proc";
import { RuncError } from "./runc";

const DEAD_POLL_MS = 20;

/** The fifo runc's init waits on for a created container; absent once started (or with another runc). */
export function execFifoPath(runcRoot: string, id: string): string {
  return join(runcRoot, id, "exec.fifo");
}

/**
 * Lets the created container `id` (whose init is `pid`) run, as `runc start` does. Resolves false,
 * having done nothing, when there is no exec fifo (not "created", or a runc that works otherwise): the
 * caller then asks `runc start`, which says what is wrong. Throws RuncError when init died first.
 */
export async function startThroughExecFifo(runcRoot: string, id: string, pid: number): Promise<boolean> {
  const fifo = execFifoPath(runcRoot, id);
  if (!existsSync(fifo)) return false;
  // Opening for reading blocks (on a libuv worker) until init opens its end. Should init die instead,
  // the watcher opens a writer itself and closes it at once, so the open returns and reads nothing.
  let settled = false;
  const watcher = setInterval(() => {
    if (settled || processRuns(pid)) return;
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: the reader is not open yet; ENOENT: it was just removed. Tried again next tick.
    }
  }, DEAD_POLL_MS);
  let data: Buffer;
  try {
    const handle = await open(fifo, constants.O_RDONLY);
    try {
      data = await handle.readFile();
    } finally {
      await handle.close();
    }
  } finally {
    settled = true;
    clearInterval(watcher);
  }
  if (data.length === 0) {
    throw new RuncError(
      "RUNC_FAILED",
      `container ${id} exited before it was started; see its log ('weft logs') and the bundle's runc.log`,
    );
  }
  await rm(fifo, { force: true });
  return true;
}
