// The level a container's output line declares, read the way its logger wrote it: a JSON "level"
// (pino's and bunyan's numbers too), a level word first thing in the line ("[INFO] ...", "ERROR: ...",
// "level=warn ..." after an optional timestamp), logfmt's level=, a level in capitals further in
// (logback, Python's logging). Only without any of these does a word in the line's head count.
import type { ShippedLine } from "../../../sidecar/src/index";

type Level = ShippedLine["level"];

/** Level words, as loggers write them, to the four levels the sink keeps. */
function levelWord(word: string): Level | undefined {
  const w = word.toLowerCase();
  if (/^(error|err|eror|fatal|ftl|panic|crit|critical|severe|alert|emerg)$/.test(w)) return "error";
  if (/^(warn|warning|wrn)$/.test(w)) return "warn";
  if (/^(debug|dbg|trace|trc|verbose|vrb)$/.test(w)) return "debug";
  if (/^(info|inf|information|notice)$/.test(w)) return "info";
  return undefined;
}

/** The level words a line's text may declare (Serilog's three-letter ones too). */
const LEVEL_WORD =
  "error|err|eror|fatal|ftl|panic|crit|critical|severe|warn|warning|wrn|debug|dbg|trace|trc|verbose|vrb|info|inf|information|notice";
/** A timestamp a line may start with: 2026-11-29T10:00:00.123Z, 2026-11-29 10:00:00,123, 10:00:00. */
const TIMESTAMP = String.raw`(?:\[?(?:\d{4}[-/]\d{2}[-/]\d{2}[T ])?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?\s+)`;
/**
 * The level a line declares first thing, after an optional timestamp: "INFO ...", "[warn] ...",
 * "ERROR: ...", "<debug>", "level=info ...". Said there, it is the logger's, whatever words follow.
 */
const LEADING_LEVEL = new RegExp(
  String.raw`^\s*${TIMESTAMP}?(?:[[(<]\s*(${LEVEL_WORD})\s*[\])>]|(?:level|lvl)=["']?(${LEVEL_WORD})\b|(${LEVEL_WORD})(?=[\s:|]|$))`,
  "i",
);
/** logfmt's level anywhere in the line. */
const LOGFMT_LEVEL = /(?:^|\s)(?:level|lvl)=["']?(\w+)/i;
/**
 * A level in capitals further in (logback's "10:00:00.123 [main] INFO  c.e.App - ...", Python's
 * "... - app - WARNING - ..."): the first one is the logger's; words after it are the message's.
 */
const CAPITAL_LEVEL = new RegExp(String.raw`(?:^|[\s[(<|])(${LEVEL_WORD.toUpperCase()})(?=[\s\])>:|]|$)`);
/**
 * Last, a word in the line's head that says trouble ("connection error", "warning: ..."), standing
 * alone: part of a path or a name ("/debug/pprof", "trace_id", "error.log") is not a level.
 */
const HEAD_WORDS: Array<[RegExp, Level]> = [
  [/(?<![\w/.=-])(error|err|fatal|panic|crit(ical)?)(?![\w/.=-])/i, "error"],
  [/(?<![\w/.=-])(warn(ing)?)(?![\w/.=-])/i, "warn"],
  [/(?<![\w/.=-])(debug)(?![\w/.=-])/i, "debug"],
];

/** pino's and bunyan's numeric levels: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal. */
function numericLevel(n: number): Level | undefined {
  if (!Number.isFinite(n) || n < 10) return undefined;
  if (n >= 50) return "error";
  if (n >= 40) return "warn";
  if (n >= 30) return "info";
  return "debug";
}

/** The line's level, or undefined when it does not say (the stream's default applies). */
export function levelOf(json: Record<string, unknown> | undefined, message: string): Level | undefined {
  for (const name of ["level", "severity", "lvl"]) {
    const v = json?.[name];
    if (typeof v === "number") return numericLevel(v);
    if (typeof v === "string") return levelWord(v) ?? levelWord(v.replace(/\W.*$/, ""));
  }
  const leading = LEADING_LEVEL.exec(message);
  if (leading) return levelWord(leading[1] ?? leading[2] ?? leading[3]!);
  const logfmt = LOGFMT_LEVEL.exec(message)?.[1];
  if (logfmt !== undefined) return levelWord(logfmt);
  const head = message.slice(0, 64);
  const capital = CAPITAL_LEVEL.exec(head)?.[1];
  if (capital !== undefined) return levelWord(capital);
  for (const [re, level] of HEAD_WORDS) if (re.test(head.slice(0, 48))) return level;
  return undefined;
}
