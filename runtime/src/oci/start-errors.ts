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
