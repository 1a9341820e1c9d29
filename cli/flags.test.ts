import test from "ava";
import { UsageError } from "./command";
import { parseFlags } from "./flags";

const OPTIONS = {
  all: { type: "boolean", short: "a" },
  file: { type: "string", short: "f" },
  tail: { type: "string" },
} as const;

test("an unknown option is named without parseArgs' advice about positionals", (t) => {
  const err = t.throws(() => parseFlags(["--bogus"], OPTIONS), { instanceOf: UsageError });
  t.is(err?.message, "unknown option --bogus");
  t.is(t.throws(() => parseFlags(["-z"], OPTIONS))?.message, "unknown option -z");
});

test("a mistyped long option suggests the one meant", (t) => {
  t.is(t.throws(() => parseFlags(["--al"], OPTIONS))?.message, "unknown option --al (did you mean --all?)");
  t.is(
    t.throws(() => parseFlags(["--fil=x"], OPTIONS))?.message,
    "unknown option --fil (did you mean --file?)",
  );
  // Nothing close: no guess.
  t.is(t.throws(() => parseFlags(["--limit", "3"], OPTIONS))?.message, "unknown option --limit");
});

test("other parse errors keep parseArgs' words, without its error-code prefix", (t) => {
  t.is(
    t.throws(() => parseFlags(["--file"], OPTIONS))?.message,
    "Option '-f, --file <value>' argument missing",
  );
  t.deepEqual(parseFlags(["-a", "x", "--tail", "3"], OPTIONS).values, { all: true, tail: "3" } as never);
});
