import { existsSync } from "node:fs";
import { NetworkError } from "./errors";
import { CommandError, run } from "./exec";
import { netnsPath } from "./netns";

/**
 * Loads iptables-restore text into the workload's netns. Each table named in the text is replaced as a
 * whole (no --noflush), so applying the same rules again leaves one copy, not two. The rules go in
 * atomically per table: on error nothing of that table changes.
 */
export async function applyIptables(netns: string, rulesText: string): Promise<void> {
  const path = netnsPath(netns);
  if (!existsSync(path)) {
    throw new NetworkError("NETNS_NOT_FOUND", `network namespace ${netns} does not exist (${path})`);
  }
  const text = rulesText.endsWith("\n") ? rulesText : `${rulesText}\n`;
  try {
    await run("nsenter", [`--net=${path}`, "--", "iptables-restore", "-w"], { input: text });
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    throw new NetworkError(
      "IPTABLES_FAILED",
      `iptables-restore in netns ${netns} refused the rules: ${describeRestoreError(err.stderr, text)}`,
      err.command,
      err.stderr,
    );
  }
}

/**
 * iptables-restore names the failing line ("Error occurred at line: 3", "COMMIT expected at line 3") but
 * not its text; quote it so a user sees the rule. With the nf_tables backend some errors (an unknown
 * jump target) are only found at COMMIT, so the named line may be the COMMIT of the failing table.
 */
export function describeRestoreError(stderr: string, text: string): string {
  const detail = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("Try `iptables-restore -h'"))
    .join("; ");
  const match = /line:? (\d+)/.exec(stderr);
  if (!match) return detail || "no error output";
  const lineNo = Number(match[1]);
  const line = text.split("\n")[lineNo - 1];
  return line === undefined ? detail : `${detail} (line ${lineNo}: ${line.trim()})`;
}
