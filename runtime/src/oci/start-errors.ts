// What a user can do when runc cannot start the app's command: one wording for runc and conmon
// starts, which `weft run` also reads to exit as docker run does (127 not found, 126 not executable).

export const COMMAND_NOT_FOUND =
  "the command does not exist in the image; check the image's cmd or the command you gave";
export const COMMAND_NOT_EXECUTABLE =
  "the command is not executable in the image; make it executable (chmod +x) or run it through sh";

/** The hint for a failed exec of the app's command, or undefined when the failure is another. */
export function commandHint(detail: string): string | undefined {
  if (/exec: .*no such file|executable file not found/.test(detail)) return COMMAND_NOT_FOUND;
  if (/exec: .*permission denied/.test(detail)) return COMMAND_NOT_EXECUTABLE;
  return undefined;
}

/** docker run's exit code for a failure of weft itself (125) or of the app's command (126, 127). */
export function runExitCode(message: string): number {
  if (message.includes(COMMAND_NOT_FOUND)) return 127;
  if (message.includes(COMMAND_NOT_EXECUTABLE)) return 126;
  return 125;
}

/**
 * docker exec's exit code when runc could not start the command (runc itself exits 255): 127 when
 * it does not exist, 126 when it cannot run (not executable, a missing working directory, ...).
 * `runcLog` is runc's --log-format json output; undefined when runc reported no failure there.
 */
export function execStartExitCode(runcLog: string): number | undefined {
  for (const line of runcLog.split("\n")) {
    let entry: { level?: unknown; msg?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.level !== "error" && entry.level !== "fatal") continue;
    const msg = String(entry.msg ?? "");
    return commandHint(msg) === COMMAND_NOT_FOUND ? 127 : 126;
  }
  return undefined;
}
