// A Dockerfile (Docker's classic builder syntax) as data for weft's builder: stages of instructions,
// with Docker's rules for parser directives, continuation lines, comments, leading flags and the exec
// (JSON) form. Nothing runs here and nothing is substituted at parse time: ARG and ENV values are
// known only while the builder runs the stages, so it calls substitute, splitWords and keyValues
// itself, instruction by instruction.
import { RuntimeError } from "../../errors";

export interface Instruction {
  /** Upper-case keyword: FROM RUN CMD LABEL MAINTAINER EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD STOPSIGNAL HEALTHCHECK SHELL */
  keyword: string;
  /** 1-based line where the instruction starts. */
  line: number;
  /** The instruction as written, continuation lines joined (backslash-newline removed), comments inside continuations dropped, trimmed: for progress lines such as "Step 3/7 : RUN make". */
  original: string;
  /** Leading --name=value flags (COPY --from=build --chown=1:2, FROM --platform=..., RUN --mount=... , HEALTHCHECK --interval=5s). A flag without "=value" gets "true". Only flags at the start, before the arguments. A flag Docker lets you repeat (RUN --mount, COPY --exclude) holds its last value here; flagList has them all. */
  flags: Record<string, string>;
  /** The same flags in order, repeats included: [["mount", "type=cache,target=/a"], ["mount", "type=secret,id=npm"]]. */
  flagList?: Array<[string, string]>;
  /** Exec (JSON array) form when the rest parses as a JSON array of strings (RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME, HEALTHCHECK CMD ...): the array. Otherwise undefined. */
  json?: string[];
  /** The arguments after the flags, raw (no variable substitution), trimmed. */
  args: string;
}

export interface Stage {
  /** 0-based position among the FROMs. */
  index: number;
  /** `FROM image AS name`: name, lower-cased (Docker compares stage names case-insensitively). */
  name?: string;
  /** The FROM instruction itself (its args hold "image [AS name]", raw: the image may contain $VARs substituted from global ARGs at build time). */
  from: Instruction;
  /** The raw image reference part of FROM (before AS). */
  image: string;
  /** Everything after FROM up to the next FROM. */
  instructions: Instruction[];
}

export interface Dockerfile {
  /** The escape character from a `# escape=` parser directive (default "\\"; "`" allowed). */
  escape: string;
  /** ARG instructions before the first FROM (usable in FROM lines). */
  globalArgs: Instruction[];
  stages: Stage[];
}

/** What each instruction takes, for the "unknown instruction" and "RUN needs a command" errors. */
const NEEDS: Record<string, string> = {
  FROM: "an image, e.g. FROM alpine:3.20",
  RUN: "a command, e.g. RUN make install",
  CMD: 'a command, e.g. CMD ["httpd", "-f"]',
  LABEL: "KEY=VALUE pairs, e.g. LABEL version=1.2",
  MAINTAINER: "a name, e.g. MAINTAINER ops@example.com",
  EXPOSE: "ports, e.g. EXPOSE 8080 53/udp",
  ENV: "KEY=VALUE pairs, e.g. ENV PATH=/app/bin:$PATH",
  ADD: "a source and a destination, e.g. ADD app.tar.gz /app/",
  COPY: "a source and a destination, e.g. COPY src/ /app/",
  ENTRYPOINT: 'a command, e.g. ENTRYPOINT ["/app/server"]',
  VOLUME: "paths, e.g. VOLUME /data",
  USER: "a user, e.g. USER app or USER 1000:1000",
  WORKDIR: "a directory, e.g. WORKDIR /app",
  ARG: "a name, e.g. ARG VERSION or ARG VERSION=1.0",
  ONBUILD: "an instruction, e.g. ONBUILD RUN make",
  STOPSIGNAL: "a signal, e.g. STOPSIGNAL SIGTERM",
  HEALTHCHECK: "CMD and a command, or NONE, e.g. HEALTHCHECK CMD curl -f http://localhost/",
  SHELL: 'the shell as a JSON array, e.g. SHELL ["/bin/bash", "-c"]',
};
export const INSTRUCTIONS: readonly string[] = Object.keys(NEEDS);

const JSON_FORMS = new Set(["RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME", "HEALTHCHECK"]);
const REPEATABLE_FLAGS = new Set(["mount", "exclude"]);
/** `--name` or `--name=value`, the value possibly quoted (`--mount=target="/a b"`). */
const FLAG = /^--([A-Za-z][\w-]*)(?:=((?:"[^"]*"|'[^']*'|[^\s"'])*))?(?:\s+|$)/;
const DIRECTIVE = /^#\s*([a-z][a-z0-9]*)\s*=\s*(.+?)\s*$/i;
const STAGE_NAME = /^[a-z][a-z0-9_.-]*$/i;
/** A word starting `<<EOF`, `<<-EOF`, `<<"EOF"` or `2<<EOF`; not a `<<<` here-string. */
const HEREDOC = /(?:^|\s)\d*<<-?["']?[\w.-]/;
const VAR_NAME = /[A-Za-z_][A-Za-z0-9_]*|[0-9]+/y;

function invalid(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}

function atLine(line: number, message: string): RuntimeError {
  return invalid(`Dockerfile line ${line}: ${message}`);
}

/** Runs a word-level check while parsing, so that its error names the line. */
function withLine<T>(line: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RuntimeError) throw atLine(line, err.message);
    throw err;
  }
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const escapeChar = parseDirectives(lines);
  const out: Dockerfile = { escape: escapeChar, globalArgs: [], stages: [] };
  const stageLines = new Map<string, number>(); // stage name → line of its FROM
  for (const { line, source } of logicalLines(lines, escapeChar)) {
    const inst = parseInstruction(source, line, escapeChar);
    const stage = out.stages.at(-1);
    if (inst.keyword === "FROM") out.stages.push(newStage(inst, out.stages.length, stageLines));
    else if (stage) stage.instructions.push(inst);
    else if (inst.keyword === "ARG") out.globalArgs.push(inst);
    else throw atLine(line, "the first instruction must be FROM (ARG may come before it)");
  }
  if (out.stages.length === 0) {
    if (out.globalArgs.length === 0)
      throw invalid("the Dockerfile has no instructions; it needs at least a FROM");
    throw invalid("the Dockerfile has no FROM; add one such as FROM alpine:3.20 after the ARGs");
  }
  return out;
}

/** The escape character from the parser directives at the top. They end at the first line that is
 * not one: an instruction, a blank line, a comment, or a directive Docker does not know. */
function parseDirectives(lines: readonly string[]): string {
  let escapeChar = "\\";
  const seen = new Set<string>();
  for (const [i, text] of lines.entries()) {
    const m = DIRECTIVE.exec(text.trim());
    const name = m?.[1]?.toLowerCase() ?? "";
    if (!m || !["syntax", "escape", "check"].includes(name)) break;
    if (seen.has(name)) throw atLine(i + 1, `the ${name} directive is given twice; keep one`);
    seen.add(name);
    if (name === "escape") {
      if (m[2] !== "\\" && m[2] !== "`")
        throw atLine(i + 1, `the escape directive takes \\ or \`, not "${m[2]}"`);
      escapeChar = m[2];
    }
  }
  return escapeChar;
}

function isCommentOrBlank(text: string): boolean {
  const t = text.trimStart();
  return t === "" || t.startsWith("#");
}

/** Physical lines joined into instructions. As in Docker, comment and blank lines inside a
 * continuation are dropped, and the text either side of an escape-newline is joined as is. */
function logicalLines(lines: readonly string[], escapeChar: string): Array<{ line: number; source: string }> {
  const continues = new RegExp(`${escapeChar === "`" ? "`" : "\\\\"}[ \\t]*$`);
  const out: Array<{ line: number; source: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    if (isCommentOrBlank(lines[i]!)) continue;
    const start = i + 1;
    let text = lines[i]!;
    let source = "";
    for (let m = continues.exec(text); m; m = continues.exec(text)) {
      source += text.slice(0, m.index);
      // The next line that is not a comment or blank continues this one.
      do i++;
      while (i < lines.length && isCommentOrBlank(lines[i]!));
      text = lines[i] ?? "";
    }
    source += text;
    if (source.trim() !== "") out.push({ line: start, source });
  }
  return out;
}

function newStage(from: Instruction, index: number, stageLines: Map<string, number>): Stage {
  const fail = (why: string) => atLine(from.line, why);
  const words = from.args.split(/\s+/);
  const [image = "", as, given] = words;
  if (words.length === 2 || words.length > 3 || (given !== undefined && as?.toLowerCase() !== "as"))
    throw fail("FROM takes an image and an optional stage name: FROM image [AS name]");
  const stage: Stage = { index, from, image, instructions: [] };
  if (given === undefined) return stage;
  if (!STAGE_NAME.test(given))
    throw fail(`stage name "${given}" must start with a letter and hold only letters, digits, _ . -`);
  const name = given.toLowerCase();
  const first = stageLines.get(name);
  if (first !== undefined)
    throw fail(`stage name "${given}" is already taken by the FROM on line ${first}; pick another`);
  stageLines.set(name, from.line);
  stage.name = name;
  return stage;
}

/** One instruction from its text (continuations already joined). The builder can use it to parse an
 * ONBUILD trigger (the ONBUILD's args) when it runs it. */
export function parseInstruction(source: string, line: number, escapeChar = "\\"): Instruction {
  const original = source.trim();
  const [, word = "", afterKeyword = ""] = /^(\S*)\s*(.*)$/s.exec(original) ?? [];
  const keyword = word.toUpperCase();
  const needs = NEEDS[keyword];
  if (needs === undefined)
    throw atLine(line, `unknown instruction "${keyword}"; weft's builder knows ${INSTRUCTIONS.join(", ")}`);
  const { flags, flagList, args } = leadingFlags(afterKeyword, line);
  if (args === "") throw atLine(line, `${keyword} needs ${needs}`);
  const inst: Instruction = { keyword, line, original, flags, flagList, args };
  if (JSON_FORMS.has(keyword)) {
    // HEALTHCHECK's command follows its CMD: HEALTHCHECK --interval=5s CMD ["curl", "-f", "..."]
    const command = keyword === "HEALTHCHECK" ? /^CMD\s+(.*)$/is.exec(args)?.[1] : args;
    const json = command === undefined ? undefined : execForm(command, keyword, line);
    if (json) inst.json = json;
  }
  check(inst, needs, escapeChar);
  return inst;
}

/** Leading `--name[=value]` words; a lone `--` ends them, as in Docker. */
function leadingFlags(text: string, line: number) {
  const flags: Record<string, string> = {};
  const flagList: Array<[string, string]> = [];
  let rest = text;
  for (let m = FLAG.exec(rest); m; m = FLAG.exec(rest)) {
    const [all, name = "", raw] = m;
    const value = raw === undefined ? "true" : raw.replace(/"([^"]*)"|'([^']*)'/g, "$1$2");
    if (Object.hasOwn(flags, name) && !REPEATABLE_FLAGS.has(name))
      throw atLine(line, `--${name} is given twice; keep one`);
    flags[name] = value;
    flagList.push([name, value]);
    rest = rest.slice(all.length);
  }
  return { flags, flagList, args: rest.replace(/^--(?:\s+|$)/, "").trim() };
}

/** A JSON array of strings. Text that is not JSON is the shell form, as in Docker (a RUN or CMD
 * starting with "[" is run by the shell); valid JSON that is not all strings is an error. */
function execForm(text: string, keyword: string, line: number): string[] | undefined {
  if (!text.startsWith("[")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  if (!parsed.every((a) => typeof a === "string"))
    throw atLine(
      line,
      `${keyword}'s JSON form must hold only strings; quote every element, e.g. ["sleep", "5"]`,
    );
  return parsed;
}

/** What Docker refuses when it parses rather than when it runs. */
function check(inst: Instruction, needs: string, escapeChar: string): void {
  const { keyword, args, line, json } = inst;
  const unquoted = args.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, '""');
  if (["RUN", "COPY", "ADD"].includes(keyword) && !json && HEREDOC.test(unquoted))
    throw atLine(
      line,
      `heredocs (<<EOF) are not supported by weft's builder; write the lines as RUN commands joined with && or COPY a file`,
    );
  switch (keyword) {
    case "COPY":
    case "ADD":
      if ((json ?? withLine(line, () => splitWords(args, undefined, escapeChar))).length < 2)
        throw atLine(line, `${keyword} needs ${needs}`);
      break;
    case "ENV":
    case "LABEL":
    case "ARG":
      withLine(line, () => keyValues(keyword, args, undefined, escapeChar));
      break;
    case "SHELL":
      if (!json) throw atLine(line, `SHELL needs ${needs}`);
      break;
    case "HEALTHCHECK":
      if (!/^(NONE$|CMD\s+\S)/i.test(args)) throw atLine(line, `HEALTHCHECK takes ${needs}`);
      break;
    case "ONBUILD": {
      const trigger = parseInstruction(args, line, escapeChar).keyword;
      if (["ONBUILD", "FROM", "MAINTAINER"].includes(trigger))
        throw atLine(line, `${trigger} is not allowed as an ONBUILD trigger`);
    }
  }
}

/** Where Docker's shell-word lexer is in `s`. With `keep`, quotes and escapes stay in the text
 * (substitute; an escaped $ becomes a plain $ when substituting); without, they are removed. $ is
 * substituted only when there are vars. */
interface Cursor {
  s: string;
  i: number;
  vars: ReadonlyMap<string, string> | undefined;
  escape: string;
  keep: boolean;
}

/** The text up to `stop` (or the end), and its words: split on whitespace outside quotes, including
 * whitespace that an unquoted $VAR expands to, as Docker's COPY "$SRCS" /dst/ versus COPY $SRCS /dst/. */
function lex(c: Cursor, stop?: string): { text: string; words: string[] } {
  let text = "";
  const words: string[] = [];
  let word: string | undefined; // undefined between words; "" after an empty "" or ''
  const add = (piece: string, splits: boolean) => {
    text += piece;
    if (!splits) {
      word = (word ?? "") + piece;
      return;
    }
    for (const ch of piece) {
      if (!/\s/.test(ch)) word = (word ?? "") + ch;
      else if (word !== undefined) {
        words.push(word);
        word = undefined;
      }
    }
  };
  while (c.i < c.s.length && c.s[c.i] !== stop) {
    const ch = c.s[c.i]!;
    if (ch === "'") add(singleQuoted(c), false);
    else if (ch === '"') add(doubleQuoted(c), false);
    else if (ch === c.escape) add(escaped(c), false);
    else if (ch === "$" && c.vars) add(dollar(c, c.vars), true);
    else add(c.s[c.i++]!, true);
  }
  if (stop !== undefined) {
    if (c.i >= c.s.length) throw missingBrace(c);
    c.i++;
  }
  if (word !== undefined) words.push(word);
  return { text, words };
}

function unmatched(quote: string, c: Cursor): RuntimeError {
  return invalid(`unmatched ${quote} in ${c.s}; close the quote, or escape it as ${c.escape}${quote}`);
}

function missingBrace(c: Cursor): RuntimeError {
  return invalid(`a "\${" has no closing "}" in ${c.s}; write \${NAME} or \${NAME:-default}`);
}

/** '...': everything literal up to the next ', the escape character included. */
function singleQuoted(c: Cursor): string {
  const end = c.s.indexOf("'", c.i + 1);
  if (end < 0) throw unmatched("'", c);
  const body = c.s.slice(c.i + 1, end);
  c.i = end + 1;
  return c.keep ? `'${body}'` : body;
}

/** "...": $ substitutes; an escape character before any other character stays as it is. */
function doubleQuoted(c: Cursor): string {
  let out = c.keep ? '"' : "";
  for (c.i++; c.i < c.s.length; ) {
    const ch = c.s[c.i]!;
    const next = c.s[c.i + 1] ?? "";
    // Docker: inside "...", the escape character escapes only ", $ and itself.
    if (ch === '"') {
      c.i++;
      return c.keep ? `${out}"` : out;
    }
    if (ch === "$" && c.vars) out += dollar(c, c.vars);
    else if (ch === c.escape && ['"', "$", c.escape].includes(next)) {
      out += c.keep && !(next === "$" && c.vars) ? ch + next : next;
      c.i += 2;
    } else {
      out += ch;
      c.i++;
    }
  }
  throw unmatched('"', c);
}

/** The escape character outside quotes escapes any character; at the very end it is dropped. */
function escaped(c: Cursor): string {
  const next = c.s[c.i + 1];
  c.i += 2;
  if (next === undefined) return c.keep ? c.escape : "";
  return c.keep && !(next === "$" && c.vars) ? c.escape + next : next;
}

function readName(c: Cursor): string {
  VAR_NAME.lastIndex = c.i;
  const name = VAR_NAME.exec(c.s)?.[0] ?? "";
  c.i += name.length;
  return name;
}

/** $NAME or ${NAME...} at c.i, substituted. A $ not followed by a name stays a $. */
function dollar(c: Cursor, vars: ReadonlyMap<string, string>): string {
  const start = c.i++;
  if (c.s[c.i] !== "{") {
    const name = readName(c);
    return name === "" ? "$" : (vars.get(name) ?? "");
  }
  c.i++;
  const name = readName(c);
  const colon = c.s[c.i] === ":";
  const op = c.s[c.i + (colon ? 1 : 0)];
  if (op === undefined) throw missingBrace(c);
  if (name === "" || !(colon ? "-+?" : "}-+?").includes(op))
    throw invalid(
      `${c.s.slice(start, c.s.indexOf("}", start) + 1 || undefined)} is not a substitution weft knows; ` +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Docker's ${...} syntax, for the user
        "write ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:+alt}, ${NAME+alt} or ${NAME:?message}",
    );
  const value = vars.get(name) ?? "";
  if (op === "}") {
    c.i++;
    return value;
  }
  // With ":", a variable that is set but empty counts as unset, as in the shell.
  const present = colon ? value !== "" : vars.has(name);
  c.i += colon ? 2 : 1;
  const word = lex(c, "}").text;
  if (op === "-") return present ? value : word;
  if (op === "+") return present ? word : "";
  if (!present) throw invalid(`${name} is ${colon ? "unset or empty" : "unset"}${word ? `: ${word}` : ""}`);
  return value;
}

/** Docker's variable substitution in a word or line: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
 * ${VAR:+alt}, ${VAR+alt} (and ${VAR:?message}). Unknown variables become "". Quotes and escapes are
 * kept for splitWords, except an escaped $, which becomes a literal $; nothing inside '...' is
 * substituted. */
export function substitute(text: string, vars: ReadonlyMap<string, string>, escapeChar = "\\"): string {
  return lex({ s: text, i: 0, vars, escape: escapeChar, keep: true }).text;
}

/** Words as Docker splits COPY/ADD/EXPOSE/VOLUME/USER/WORKDIR/STOPSIGNAL arguments: whitespace
 * separates; "..." and '...' group and are removed; the escape character escapes the next one
 * (outside '...'). With vars, $VARs are substituted as the words are read, never inside '...'. */
export function splitWords(args: string, vars?: ReadonlyMap<string, string>, escapeChar = "\\"): string[] {
  return lex({ s: args, i: 0, vars, escape: escapeChar, keep: false }).words;
}

/** ENV, LABEL and ARG arguments as [key, value] pairs, quotes removed and substituted with vars
 * when given. As in Docker, every pair of one ENV sees the vars from before it (ENV A=1 B=$A gives B
 * the old A). ARG NAME without a default gives an undefined value. */
export function keyValues(
  keyword: "ENV" | "LABEL" | "ARG",
  args: string,
  vars?: ReadonlyMap<string, string>,
  escapeChar = "\\",
): Array<[string, string | undefined]> {
  const word = (raw: string) => lex({ s: raw, i: 0, vars, escape: escapeChar, keep: false }).text;
  // The words as written (quotes and escapes kept), to find each "=" before quotes are removed.
  const raw = lex({ s: args, i: 0, vars: undefined, escape: escapeChar, keep: true }).words;
  const first = raw[0];
  if (first === undefined) throw invalid(`${keyword} needs ${NEEDS[keyword]}`);
  if (keyword !== "ARG" && !first.includes("=")) {
    // The legacy form `ENV KEY the rest of the line`: one pair, the value is all after the key.
    const legacy = /^(\S+)\s+(.*)$/s.exec(args.trim());
    if (!legacy) throw invalid(`${keyword} ${first} needs a value; write ${keyword} ${first}=VALUE`);
    return [[word(legacy[1]!), word(legacy[2]!)]];
  }
  return raw.map((w): [string, string | undefined] => {
    const eq = w.indexOf("=");
    if (eq < 0 && keyword !== "ARG")
      throw invalid(`${keyword} ${w}: expected KEY=VALUE; quote a value with spaces, as KEY="a b"`);
    const key = word(eq < 0 ? w : w.slice(0, eq));
    if (key === "") throw invalid(`${keyword} ${w}: the name is empty; write ${keyword} NAME=VALUE`);
    return [key, eq < 0 ? undefined : word(w.slice(eq + 1))];
  });
}
