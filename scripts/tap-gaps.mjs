// After a test run whose TAP has no plan line (ava 7's TAP reporter crashes while reporting a test
// that timed out, so the log never names it): the test files with fewer results than the tests they
// declare, which is where the pending test is. Usage: node scripts/tap-gaps.mjs TAP_FILE

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const tap = readFileSync(process.argv[2], "utf8");
const results = new Map();
for (const line of tap.split("\n")) {
  // "ok 12 - runtime › src › cli › options.cli › title" or "not ok ..."
  const m = /^(?:not )?ok \d+ - (.+?) › [^›]+$/.exec(line);
  if (m) results.set(m[1], (results.get(m[1]) ?? 0) + 1);
}
const files = execFileSync("git", ["ls-files", "*.test.ts"], { encoding: "utf8" })
  .split("\n")
  .filter(Boolean);
// A declaration at the start of a line: test(...), test.serial(...), anyTest(...) (macros and loops
// make this a lower bound, which is what is wanted: a file short of it has a test that never ended).
const DECLARED = /^\s*(?:test|anyTest)(?:\.serial)?(?:\.failing)?\(/gm;
const short = [];
for (const file of files) {
  const declared = (readFileSync(file, "utf8").match(DECLARED) ?? []).length;
  const title = file
    .replace(/\.test\.ts$/, "")
    .split("/")
    .join(" › ");
  const got = results.get(title) ?? 0;
  if (got < declared) short.push(`  ${file}: ${got} of ${declared} tests reported`);
}
process.stdout.write(
  short.length > 0
    ? `test.sh: ava ended without its summary (its TAP reporter crashes on a test timeout); files with tests that never ended:\n${short.join("\n")}\n`
    : "test.sh: ava ended without its summary, and every file reported all the tests it declares\n",
);
