// Which shared libraries a host executable needs, as ldd resolves them on this host.
import { execTool } from "../exec";
import { BuildError } from "./errors";

/**
 * Parses ldd's output into the absolute paths to copy: every "name => /path" and the dynamic loader
 * ("/lib64/ld-linux-x86-64.so.2 (0x...)"). The vDSO has no file and is skipped. A library ldd could
 * not find is an error: the image would fail at start with a less helpful message.
 */
export function parseLdd(output: string, binary: string): string[] {
  const out: string[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const arrow = /^(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      const target = arrow[2] ?? "";
      if (target === "not found") {
        throw new BuildError(
          "MISSING_SOURCE",
          `${binary} needs the shared library ${arrow[1]}, which ldd cannot find on this host; install it or use a static build`,
        );
      }
      if (target.startsWith("/")) out.push(target);
      continue;
    }
    const loader = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (loader?.[1]) out.push(loader[1]);
  }
  return [...new Set(out)];
}

/** The libraries (and loader) of a host executable; none for a static binary or a script. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const res = await execTool("ldd", [binary]);
  const text = `${res.stdout}\n${res.stderr}`;
  if (/not a dynamic executable|statically linked/.test(text)) return [];
  if (res.code !== 0) {
    throw new BuildError("TOOL_FAILED", `ldd ${binary} failed: ${res.stderr.trim() || `exit ${res.code}`}`);
  }
  return parseLdd(res.stdout, binary);
}
