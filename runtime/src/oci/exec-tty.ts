// The terminal of a `runc exec -t` (runc.ts runs it under script(1), which makes a pty for runc's own
// stdin; runc copies that pty's size to the process's console whenever it gets SIGWINCH). Resizing
// it is setting that pty's size: the kernel then sends runc the SIGWINCH.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { weftSys } from "../sys/native";

/** The pty script(1) (pid) gave its child, or undefined while there is none yet (or any more). */
export function scriptTerminal(pid: number): string | undefined {
  for (const child of childrenOf(pid)) {
    try {
      const tty = readlinkSync(`/proc/${child}/fd/0`);
      if (tty.startsWith("/dev/pts/")) return tty;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // A kernel without CONFIG_PROC_CHILDREN: every process's parent, from its stat line.
    const out: number[] = [];
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(name));
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }
}

/**
 * Sets the size of exec `pid`'s terminal, waiting (up to `waitMs`) for script(1) to have made it: a
 * client resizes right after the start. False when there was none to size (the exec ended).
 */
export async function resizeScriptTerminal(
  pid: number,
  rows: number,
  cols: number,
  o: { waitMs?: number; ended?: () => boolean } = {},
): Promise<boolean> {
  const until = Date.now() + (o.waitMs ?? 2000);
  for (;;) {
    const tty = scriptTerminal(pid);
    if (tty) {
      try {
        weftSys().setWinsize(tty, rows, cols);
        return true;
      } catch {
        // the exec ended between the lookup and the open
      }
    }
    if (o.ended?.() || Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
