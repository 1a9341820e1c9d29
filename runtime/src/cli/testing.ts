// For CLI tests: the real CLI entry (cli/main.ts) in a child process, against an API socket served by
// an engine over fake parts.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutionContext } from "ava";
import { packageRoot } from "../../../cli/index";
import { startApiServer } from "../api/server";
import { Engine } from "../engine/engine";
import { FakeSystem } from "../engine/fake-parts";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/** Runs `weft ARGS` from the sources, with `input` on its stdin (else none); never rejects (the exit
 * code is in the result). */
export function weftCli(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", join(packageRoot(), "cli", "main.ts"), ...args],
      { env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A daemon API on a temp socket over fake parts, closed and removed in the test's teardown. */
export async function startFakeDaemon(
  t: ExecutionContext,
): Promise<{ dir: string; host: string; sys: FakeSystem }> {
  const dir = mkdtempSync(join(tmpdir(), "weft-cli-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, "weft.sock");
  const sys = new FakeSystem();
  const engine = new Engine(sys.parts(join(dir, "state")));
  await engine.load();
  t.teardown(() => engine.close());
  const server = await startApiServer(engine, socket, quiet);
  t.teardown(() => server.close());
  return { dir, host: `unix://${socket}`, sys };
}
