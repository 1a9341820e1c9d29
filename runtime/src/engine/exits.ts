// Reading what the per-container monitor left behind: the exit file (conmon writes the app's exit
// code there the moment it reaps the app) and waiting for it, with the injected clock.
import { existsSync, readFileSync } from "node:fs";
import type { Clock } from "./parts";

/** The code in the exit file; undefined while the app runs (no file yet). */
export function readExitCode(exitFile: string): number | undefined {
  if (!existsSync(exitFile)) return undefined;
  let text: string;
  try {
    text = readFileSync(exitFile, "utf8").trim();
  } catch {
    return undefined;
  }
  // Written and renamed by conmon; an empty read is a file caught mid-write: not there yet.
  if (text === "") return undefined;
  const code = Number.parseInt(text, 10);
  return Number.isInteger(code) ? code : 255;
}

/** Polls for the exit file; true when it appeared within timeoutMs. */
export async function waitExitFile(exitFile: string, timeoutMs: number, clock: Clock): Promise<boolean> {
  const deadline = clock.now().getTime() + timeoutMs;
  for (;;) {
    if (readExitCode(exitFile) !== undefined) return true;
    if (clock.now().getTime() >= deadline) return false;
    await clock.sleep(50);
  }
}
