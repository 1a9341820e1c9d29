// Dockerfile parsing: what weft's builder relies on (stages, lines, flags, exec form) and the word
// helpers it calls while running instructions (substitution, word splitting, KEY=VALUE pairs).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the Dockerfile syntax under test
import test, { type ExecutionContext } from "ava";
import { RuntimeError } from "../../errors";
import { keyValues, parseDockerfile, parseInstruction, splitWords, substitute } from "./parse";

const parse = (...lines: string[]) => parseDockerfile(lines.join("\n"));
const vars = new Map([
  ["A", "1"],
  ["E", ""],
  ["L", "x y"],
]);

/** The message of the INVALID_ARGUMENT that `fn` throws. */
function invalid(t: ExecutionContext, fn: () => unknown, what: string): string {
  const err = t.throws(fn, { instanceOf: RuntimeError }, what) as RuntimeError | undefined;
  t.is(err?.code, "INVALID_ARGUMENT", what);
  return err?.message ?? "";
}

test("multi-stage: global ARGs, stage names lower-cased, raw FROM images, instructions with their lines", (t) => {
  const df = parse(
    "# syntax=docker/dockerfile:1",
    "ARG GO=1.22",
    "ARG BASE",
    "",
    "FROM --platform=$BUILDPLATFORM golang:${GO} AS Build",
    "WORKDIR /src",
    "COPY . .",
    "RUN go build -o /out/app ./cmd/app",
    "",
    "from ${BASE:-alpine:3.20}",
    "COPY --from=build /out/app /usr/local/bin/app",
    'CMD ["app"]',
  );
  t.is(df.escape, "\\");
  t.deepEqual(
    df.globalArgs.map((a) => [a.keyword, a.line, a.args]),
    [
      ["ARG", 2, "GO=1.22"],
      ["ARG", 3, "BASE"],
    ],
  );
  t.is(df.stages.length, 2);
  const [build, final] = df.stages;
  t.deepEqual([build?.index, build?.name, build?.image], [0, "build", "golang:${GO}"]);
  t.deepEqual(build?.from.flags, { platform: "$BUILDPLATFORM" });
  t.is(build?.from.args, "golang:${GO} AS Build");
  t.deepEqual(
    build?.instructions.map((i) => [i.keyword, i.line, i.args]),
    [
      ["WORKDIR", 6, "/src"],
      ["COPY", 7, ". ."],
      ["RUN", 8, "go build -o /out/app ./cmd/app"],
    ],
  );
  t.deepEqual([final?.index, final?.name, final?.image], [1, undefined, "${BASE:-alpine:3.20}"]);
  t.deepEqual(
    [final?.from.keyword, final?.from.line, final?.from.original],
    ["FROM", 10, "from ${BASE:-alpine:3.20}"],
  );
  const [copy, cmd] = final?.instructions ?? [];
  t.deepEqual([copy?.flags, copy?.args], [{ from: "build" }, "/out/app /usr/local/bin/app"]);
  t.deepEqual([cmd?.line, cmd?.json], [12, ["app"]]);
});

test("continuations: joined as written, comments and blank lines inside dropped, trailing whitespace after the escape allowed", (t) => {
  const df = parse(
    "FROM alpine",
    "RUN apk add --no-cache \\",
    "    # tools for the build",
    "    curl \\",
    "",
    "    git",
    "run echo a \\  \t",
    "  && echo b",
    "ENV A=1",
    "RUN echo last \\",
  );
  const [apk, echo, env, last] = df.stages[0]?.instructions ?? [];
  t.deepEqual([apk?.line, apk?.args], [2, "apk add --no-cache     curl     git"]);
  t.is(apk?.original, "RUN apk add --no-cache     curl     git");
  t.deepEqual([echo?.keyword, echo?.line, echo?.original], ["RUN", 7, "run echo a   && echo b"]);
  t.deepEqual([env?.keyword, env?.line], ["ENV", 9]);
  t.deepEqual(
    [last?.line, last?.args],
    [10, "echo last"],
    "a continuation at the end of the file ends there",
  );
});

test("exec (JSON) form versus shell form, and text that only looks like JSON runs in the shell", (t) => {
  const df = parse(
    "FROM alpine",
    'CMD ["httpd", "-f"]',
    'RUN echo "hi there"',
    "ENTRYPOINT [not json",
    'RUN ["sh", "-c", \'single quotes are not JSON\']',
    'HEALTHCHECK --interval=5s --retries=3 CMD ["curl", "-f", "http://localhost/"]',
    "HEALTHCHECK CMD curl -f http://localhost/",
    "healthcheck none",
    'SHELL ["/bin/bash", "-c"]',
    'VOLUME ["/data", "/logs"]',
    'COPY ["my file.txt", "/app/"]',
    "CMD []",
  );
  const got = df.stages[0]?.instructions.map((i) => [i.keyword, i.json, i.args]);
  t.deepEqual(got, [
    ["CMD", ["httpd", "-f"], '["httpd", "-f"]'],
    ["RUN", undefined, 'echo "hi there"'],
    ["ENTRYPOINT", undefined, "[not json"],
    ["RUN", undefined, '["sh", "-c", \'single quotes are not JSON\']'],
    ["HEALTHCHECK", ["curl", "-f", "http://localhost/"], 'CMD ["curl", "-f", "http://localhost/"]'],
    ["HEALTHCHECK", undefined, "CMD curl -f http://localhost/"],
    ["HEALTHCHECK", undefined, "none"],
    ["SHELL", ["/bin/bash", "-c"], '["/bin/bash", "-c"]'],
    ["VOLUME", ["/data", "/logs"], '["/data", "/logs"]'],
    ["COPY", ["my file.txt", "/app/"], '["my file.txt", "/app/"]'],
    ["CMD", [], "[]"],
  ]);
  t.deepEqual(df.stages[0]?.instructions[4]?.flags, { interval: "5s", retries: "3" });
});

test("flags: only leading --name[=value] words; repeatable --mount kept in order; a lone -- ends them", (t) => {
  const [copy, mounts, link, late, dashes, quoted] =
    parse(
      "FROM alpine",
      "COPY --from=build --chown=1:1 a b",
      "RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=npm npm ci",
      "COPY --link --chmod=0755 run.sh /bin/",
      "RUN echo --from=x",
      "RUN -- --version",
      "RUN --mount=type=bind,target=\"/a b\" ls '/a b'",
    ).stages[0]?.instructions ?? [];
  t.deepEqual([copy?.flags, copy?.args], [{ from: "build", chown: "1:1" }, "a b"]);
  t.deepEqual(mounts?.flagList, [
    ["mount", "type=cache,target=/root/.cache"],
    ["mount", "type=secret,id=npm"],
  ]);
  t.deepEqual([mounts?.flags, mounts?.args], [{ mount: "type=secret,id=npm" }, "npm ci"]);
  t.deepEqual(link?.flags, { link: "true", chmod: "0755" });
  t.deepEqual([late?.flags, late?.args], [{}, "echo --from=x"]);
  t.deepEqual([dashes?.flags, dashes?.args], [{}, "--version"]);
  t.deepEqual([quoted?.flags, quoted?.args], [{ mount: "type=bind,target=/a b" }, "ls '/a b'"]);
});

test("# escape=` makes the backtick the escape and continuation character, so Windows paths keep their \\", (t) => {
  const df = parse(
    "# escape=`",
    "FROM mcr.microsoft.com/windows/servercore",
    "RUN dir c:\\ `",
    "    && echo done",
    "RUN echo c:\\",
    "COPY c:\\src `",
    "  c:\\dst",
  );
  t.is(df.escape, "`");
  const [dir, echo, copy] = df.stages[0]?.instructions ?? [];
  t.deepEqual([dir?.line, dir?.args], [3, "dir c:\\     && echo done"]);
  t.deepEqual([echo?.line, echo?.args], [5, "echo c:\\"], "a trailing \\ does not continue the line");
  t.deepEqual(splitWords(copy?.args ?? "", undefined, df.escape), ["c:\\src", "c:\\dst"]);
});

test("parser directives count only at the very top, before any comment, blank line or unknown directive", (t) => {
  t.is(parse("#ESCAPE = `", "FROM a").escape, "`", "case and spaces do not matter");
  t.is(parse("# syntax=docker/dockerfile:1", "# escape=`", "FROM a").escape, "`");
  t.is(parse("# a comment", "# escape=`", "FROM a").escape, "\\");
  t.is(parse("", "# escape=`", "FROM a").escape, "\\");
  t.is(parse("# foo=bar", "# escape=`", "FROM a").escape, "\\");
  t.is(parse("FROM a", "# escape=`", "RUN x \\", "  y").stages[0]?.instructions[0]?.args, "x   y");
  t.regex(
    invalid(t, () => parse("# escape=/", "FROM a"), "bad escape"),
    /^Dockerfile line 1: the escape directive takes \\ or `/,
  );
  t.regex(
    invalid(t, () => parse("# escape=`", "# Escape=\\", "FROM a"), "twice"),
    /^Dockerfile line 2: the escape directive is given twice/,
  );
});

test("Windows line endings and a UTF-8 byte order mark are accepted", (t) => {
  const df = parseDockerfile('\uFEFFFROM alpine AS base\r\nRUN echo a \\\r\n  b\r\nCMD ["sh"]\r\n');
  t.deepEqual([df.stages[0]?.from.keyword, df.stages[0]?.name], ["FROM", "base"]);
  t.deepEqual(
    df.stages[0]?.instructions.map((i) => [i.line, i.args, i.json]),
    [
      [2, "echo a   b", undefined],
      [4, '["sh"]', ["sh"]],
    ],
  );
});

test("ONBUILD keeps its trigger as args, which parseInstruction reads as an instruction", (t) => {
  const onbuild = parse("FROM a", "onbuild RUN --mount=type=cache,target=/c make").stages[0]?.instructions[0];
  t.deepEqual([onbuild?.keyword, onbuild?.args], ["ONBUILD", "RUN --mount=type=cache,target=/c make"]);
  const trigger = parseInstruction(onbuild?.args ?? "", onbuild?.line ?? 0);
  t.deepEqual(
    [trigger.keyword, trigger.line, trigger.flags, trigger.args],
    ["RUN", 2, { mount: "type=cache,target=/c" }, "make"],
  );
});

test("substitute: $VAR and ${VAR}; unknown variables are empty", (t) => {
  t.is(substitute("$A ${A} ${A}b $Ab ${U}", vars), "1 1 1b  ");
  t.is(substitute("cost: $ 5 $", vars), "cost: $ 5 $", "a $ without a name stays");
});

test("substitute: - and + forms, with and without the colon, nested defaults", (t) => {
  t.is(substitute("${U:-d}|${E:-d}|${A:-d}|${U-d}|${E-d}", vars), "d|d|1|d|");
  t.is(substitute("${A:+alt}|${E:+alt}|${E+alt}|${U+alt}|${U:+alt}", vars), "alt||alt||");
  t.is(substitute("${U:-${A}0}", vars), "10");
  t.is(substitute("${A:?set A}", vars), "1");
  t.regex(
    invalid(t, () => substitute("${E:?set E first}", vars), ":?"),
    /E is unset or empty: set E first/,
  );
});

test("substitute: an escaped $ stays a literal $; quotes and other escapes are kept for splitWords", (t) => {
  t.is(substitute("\\$A costs \\${A}", vars), "$A costs ${A}");
  t.is(substitute("\\\\$A", vars), "\\\\1", "an escaped escape does not escape the $");
  t.is(substitute(`'$A' "$A" "\\$A" "\\"" a\\ b`, vars), `'$A' "1" "$A" "\\"" a\\ b`);
  t.is(substitute("`$A $A c:\\dir", vars, "`"), "$A 1 c:\\dir");
});

test("substitute: a malformed ${...} is refused", (t) => {
  t.regex(
    invalid(t, () => substitute("${A", vars), "no brace"),
    /no closing "}" in \$\{A;/,
  );
  t.regex(
    invalid(t, () => substitute("${A:-x", vars), "no brace"),
    /no closing "}"/,
  );
  t.regex(
    invalid(t, () => substitute("${", vars), "no name"),
    /no closing "}"/,
  );
  t.regex(
    invalid(t, () => substitute("x ${A#pre} y", vars), "#"),
    /^\$\{A#pre\} is not a substitution weft knows; write \$\{NAME\}/,
  );
  t.regex(
    invalid(t, () => substitute("${A:}", vars), "colon"),
    /^\$\{A:\} is not a substitution/,
  );
  t.regex(
    invalid(t, () => substitute("${}", vars), "empty"),
    /^\$\{\} is not a substitution/,
  );
});

test("splitWords: whitespace separates, quotes group and go, escapes escape, '...' is not substituted", (t) => {
  t.deepEqual(splitWords(`a "b c" 'd $A' e\\ f "" g"h"i  \t`, vars), ["a", "b c", "d $A", "e f", "", "ghi"]);
  t.deepEqual(splitWords("$A ${B}"), ["$A", "${B}"], "no vars, no substitution");
  t.deepEqual(splitWords('$L "$L" x$L', vars), ["x", "y", "x y", "xx", "y"], "an unquoted $VAR splits");
  t.deepEqual(splitWords('"a\\"b" "c\\d" \\"e \'f\\\''), ['a"b', "c\\d", '"e', "f\\"]);
  t.deepEqual(splitWords("$E x ${E}"), ["$E", "x", "${E}"]);
  t.deepEqual(splitWords("$E x ${E}", vars), ["x"], "an empty unquoted $VAR is no word");
  t.regex(
    invalid(t, () => splitWords('"abc'), "unmatched"),
    /^unmatched " in "abc; close the quote/,
  );
});

test("keyValues: ENV KEY=VALUE pairs, quoted and escaped, substituted with the values from before the ENV", (t) => {
  t.deepEqual(keyValues("ENV", `A=1 B="two words" C='x $A' D=a\\ b E= "F G"=h`), [
    ["A", "1"],
    ["B", "two words"],
    ["C", "x $A"],
    ["D", "a b"],
    ["E", ""],
    ["F G", "h"],
  ]);
  const env = new Map([
    ["PATH", "/bin"],
    ["A", "old"],
  ]);
  t.deepEqual(keyValues("ENV", "PATH=/app/bin:$PATH A=new B=$A", env), [
    ["PATH", "/app/bin:/bin"],
    ["A", "new"],
    ["B", "old"],
  ]);
});

test("keyValues: the legacy ENV/LABEL form takes the rest of the line as the value", (t) => {
  t.deepEqual(keyValues("ENV", 'GREETING hello   "big" $NAME', new Map([["NAME", "world"]])), [
    ["GREETING", "hello   big world"],
  ]);
  t.deepEqual(keyValues("LABEL", "maintainer ops team"), [["maintainer", "ops team"]]);
});

test("keyValues: LABEL with quoted keys and values; ARG with and without a default", (t) => {
  t.deepEqual(keyValues("LABEL", `"com.example.name"="my app" version=2 note='a "b"'`), [
    ["com.example.name", "my app"],
    ["version", "2"],
    ["note", 'a "b"'],
  ]);
  t.deepEqual(keyValues("ARG", "VERSION"), [["VERSION", undefined]]);
  t.deepEqual(keyValues("ARG", "V=1.0 NAME"), [
    ["V", "1.0"],
    ["NAME", undefined],
  ]);
  t.deepEqual(keyValues("ARG", "TAG=${BASE:-latest}-slim", new Map([["BASE", "3.20"]])), [
    ["TAG", "3.20-slim"],
  ]);
  t.deepEqual(keyValues("ARG", "TAG=${BASE:-latest}-slim", new Map()), [["TAG", "latest-slim"]]);
});

test("keyValues: malformed pairs are refused with the form to write", (t) => {
  t.regex(
    invalid(t, () => keyValues("ENV", "K"), "no value"),
    /^ENV K needs a value; write ENV K=VALUE$/,
  );
  t.regex(
    invalid(t, () => keyValues("ENV", "=x"), "no name"),
    /the name is empty; write ENV NAME=VALUE/,
  );
  t.regex(
    invalid(t, () => keyValues("ARG", "=1"), "no name"),
    /^ARG =1: the name is empty/,
  );
  t.regex(
    invalid(t, () => keyValues("LABEL", "a=1 b"), "no ="),
    /^LABEL b: expected KEY=VALUE/,
  );
  t.regex(
    invalid(t, () => keyValues("LABEL", "  "), "empty"),
    /^LABEL needs KEY=VALUE pairs/,
  );
  t.regex(
    invalid(t, () => keyValues("ENV", 'A="x'), "quote"),
    /unmatched "/,
  );
});

test("heredocs are refused with what to write instead; << that is not a heredoc is fine", (t) => {
  for (const line of [
    "RUN <<EOF",
    "COPY <<EOF /app/x",
    "ADD <<EOF /x",
    "RUN cat <<-'END' > /f",
    "RUN --mount=type=cache,target=/c <<EOF",
    "RUN python3 2<<EOF",
  ]) {
    t.regex(
      invalid(t, () => parse("FROM a", line, "echo hi", "EOF"), line),
      /^Dockerfile line 2: heredocs \(<<EOF\) are not supported by weft's builder; write the lines as RUN commands joined with && or COPY a file$/,
    );
  }
  const fine = parse(
    "FROM a",
    "RUN echo $((1<<2))",
    'RUN echo "<<EOF"',
    "RUN cat <<<hello",
    'RUN ["sh", "-c", "cat <<EOF"]',
  );
  t.deepEqual(
    fine.stages[0]?.instructions.map((i) => i.args),
    ["echo $((1<<2))", 'echo "<<EOF"', "cat <<<hello", '["sh", "-c", "cat <<EOF"]'],
  );
});

test("every parse error is INVALID_ARGUMENT and names the line", (t) => {
  const cases: Array<[string[], RegExp]> = [
    [
      ["FROM a", "", "FOO bar"],
      /^Dockerfile line 3: unknown instruction "FOO"; weft's builder knows FROM, RUN, CMD, /,
    ],
    [
      ["# comment", "RUN make", "FROM a"],
      /^Dockerfile line 2: the first instruction must be FROM \(ARG may come before it\)$/,
    ],
    [["ARG A", "ENV B=1", "FROM a"], /^Dockerfile line 2: the first instruction must be FROM/],
    [[""], /^the Dockerfile has no instructions; it needs at least a FROM$/],
    [["# only a comment", "", "   "], /^the Dockerfile has no instructions; it needs at least a FROM$/],
    [["ARG A=1"], /^the Dockerfile has no FROM; add one/],
    [
      ["FROM a b"],
      /^Dockerfile line 1: FROM takes an image and an optional stage name: FROM image \[AS name\]$/,
    ],
    [["FROM a AS b c"], /^Dockerfile line 1: FROM takes an image and an optional stage name/],
    [["FROM a FOR b"], /^Dockerfile line 1: FROM takes an image and an optional stage name/],
    [["FROM a AS 1st"], /^Dockerfile line 1: stage name "1st" must start with a letter/],
    [
      ["FROM a AS b/c"],
      /^Dockerfile line 1: stage name "b\/c" must start with a letter and hold only letters, digits, _ \. -$/,
    ],
    [
      ["FROM a AS build", "FROM b AS Build"],
      /^Dockerfile line 2: stage name "Build" is already taken by the FROM on line 1; pick another$/,
    ],
    [["FROM"], /^Dockerfile line 1: FROM needs an image, e.g. FROM alpine:3.20$/],
    [["FROM a", "RUN"], /^Dockerfile line 2: RUN needs a command/],
    [["FROM a", "RUN --mount=type=cache,target=/x  "], /^Dockerfile line 2: RUN needs a command/],
    [["FROM a", "COPY --from=x onlyone"], /^Dockerfile line 2: COPY needs a source and a destination/],
    [["FROM a", "WORKDIR"], /^Dockerfile line 2: WORKDIR needs a directory/],
    [["FROM a", "ENV K"], /^Dockerfile line 2: ENV K needs a value; write ENV K=VALUE$/],
    [["FROM a", "LABEL a=1 b"], /^Dockerfile line 2: LABEL b: expected KEY=VALUE/],
    [["FROM a", "SHELL /bin/bash -c"], /^Dockerfile line 2: SHELL needs the shell as a JSON array/],
    [["FROM a", "HEALTHCHECK curl x"], /^Dockerfile line 2: HEALTHCHECK takes CMD and a command, or NONE/],
    [["FROM a", "HEALTHCHECK NONE now"], /^Dockerfile line 2: HEALTHCHECK takes CMD/],
    [
      ["FROM a", "ONBUILD ONBUILD RUN x"],
      /^Dockerfile line 2: ONBUILD is not allowed as an ONBUILD trigger$/,
    ],
    [["FROM a", "ONBUILD FROM b"], /^Dockerfile line 2: FROM is not allowed as an ONBUILD trigger$/],
    [["FROM a", "ONBUILD FOO"], /^Dockerfile line 2: unknown instruction "FOO"/],
    [["FROM a", 'CMD ["sleep", 5]'], /^Dockerfile line 2: CMD's JSON form must hold only strings/],
    [["FROM a", 'COPY "a b /c'], /^Dockerfile line 2: unmatched " in "a b \/c/],
    [["FROM a", "COPY --from=a --from=b x y"], /^Dockerfile line 2: --from is given twice; keep one$/],
    [
      ["FROM a", "RUN a \\", "  # comment", "  b", "", "FOO"],
      /^Dockerfile line 6: unknown instruction "FOO"/,
    ],
  ];
  for (const [lines, message] of cases)
    t.regex(
      invalid(t, () => parse(...lines), lines.join(" / ")),
      message,
    );
});
