import test from "ava";
import { CommandError, run } from "./exec";

test("run: a failing command's error names it and carries its exit status, stderr and stdout", async (t) => {
  const err = await t.throwsAsync(run("sh", ["-c", "echo partial; echo 'no such device' >&2; exit 3"]), {
    instanceOf: CommandError,
  });
  t.is(err.exitCode, 3);
  t.is(err.stderr.trim(), "no such device");
  t.is(err.stdout.trim(), "partial");
  t.regex(err.message, /^sh -c 'echo partial; .*': exited with status 3: no such device$/);
});

test("run: input is the command's stdin; without it stdin is at its end at once", async (t) => {
  t.is((await run("sh", ["-c", "read a; read b; echo $b $a"], { input: "one\ntwo\n" })).stdout, "two one\n");
  t.is((await run("cat", [])).stdout, "");
});

test("run: a missing program says what to install; a wedged one is killed at its timeout", async (t) => {
  const missing = await t.throwsAsync(run("weft-no-such-tool", []), { instanceOf: CommandError });
  t.regex(missing.message, /weft-no-such-tool not found; install it/);
  t.is(missing.exitCode, null);
  const wedged = await t.throwsAsync(run("sleep", ["30"], { timeoutMs: 100 }), { instanceOf: CommandError });
  t.regex(wedged.message, /killed by SIGKILL after timing out/);
});
