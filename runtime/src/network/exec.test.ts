import test from "ava";
import { CommandError, runWithMarker } from "./exec";

test("runWithMarker: reached resolves at the marker line, while the command goes on and may still fail", async (t) => {
  const steps: string[] = [];
  const { reached, done } = runWithMarker("sh", ["-c", "echo first; echo MARK; read line; exit 3"], "MARK", {
    input: "go\n",
  });
  const finished = done.then(
    () => steps.push("done"),
    (err: unknown) => {
      steps.push("failed");
      throw err;
    },
  );
  await reached;
  steps.push("reached");
  const err = await t.throwsAsync(finished, { instanceOf: CommandError });
  t.is(err.exitCode, 3);
  t.deepEqual(steps, ["reached", "failed"]);
});

test("runWithMarker: a command that fails before its marker rejects reached with the same error", async (t) => {
  const { reached, done } = runWithMarker("sh", ["-c", "echo oops >&2; exit 2"], "MARK");
  const err = await t.throwsAsync(reached, { instanceOf: CommandError });
  t.is(err.stderr.trim(), "oops");
  t.is(await done.catch((e: unknown) => e), err);
});

test("runWithMarker: a marker that is only part of a line does not count", async (t) => {
  const { reached, done } = runWithMarker("sh", ["-c", "echo MARKER; exit 4"], "MARK");
  const err = await t.throwsAsync(reached, { instanceOf: CommandError });
  t.is(err.exitCode, 4);
  await t.throwsAsync(done);
});
