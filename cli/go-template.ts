// The part of Go's text/template that `docker ps --format` and `docker inspect -f` users write:
// `{{.Field}}` and `{{.A.B}}` (field names match case-insensitively, so `{{.status}}` and
// `{{.Status}}` both read `status`), `{{json .X}}`, `{{index .Map "key"}}`, `{{join .List ","}}`,
// `{{lower .X}}`, `{{upper .X}}`, `{{len .X}}`, a pipe into one of those (`{{.X | json}}`), `\t`
// and `\n` as the docker CLI reads them, and a `table ` prefix that prints a header row and
// aligns the tab-separated cells. `range` and `if` are refused with a message, not printed wrong.
import { UsageError } from "./command";
import { formatTable } from "./table";

type Arg = { field: string[] } | { literal: string | number };
interface Action {
  /** A function name, or "" for a plain value. */
  fn: string;
  args: Arg[];
  /** `{{X | f}}`: f applied to X's value. */
  pipe?: string;
}
type Part = string | Action;

const FUNCTIONS: Record<string, (args: unknown[]) => unknown> = {
  json: ([v]) => JSON.stringify(v ?? null),
  index: ([v, ...keys]) => keys.reduce<unknown>((at, k) => lookupKey(at, String(k)), v),
  join: ([v, sep]) => (Array.isArray(v) ? v.map(printValue).join(String(sep ?? "")) : printValue(v)),
  lower: ([v]) => printValue(v).toLowerCase(),
  upper: ([v]) => printValue(v).toUpperCase(),
  len: ([v]) =>
    Array.isArray(v) || typeof v === "string"
      ? v.length
      : v && typeof v === "object"
        ? Object.keys(v).length
        : 0,
};

const SUPPORTED =
  'supported: {{.Field}}, {{.A.B}}, {{json .X}}, {{index .Map "key"}}, {{join .List ","}}, {{lower .X}}, {{upper .X}}, {{len .X}}, and a "table " prefix';

/** A parsed template: render it against each item. */
export class GoTemplate {
  readonly table: boolean;
  private readonly parts: Part[];

  constructor(source: string) {
    let text = source.replaceAll("\\t", "\t").replaceAll("\\n", "\n");
    this.table = text.startsWith("table ") || text === "table";
    if (this.table) text = text.slice(6);
    this.parts = parse(text);
  }

  render(data: unknown): string {
    return this.parts.map((p) => (typeof p === "string" ? p : printValue(evaluate(p, data)))).join("");
  }

  /**
   * Each item rendered on its own line; with `table`, a header row first and the tab-separated
   * cells aligned. `header` names a field's column (docker's names: ID → "CONTAINER ID"); a field
   * it does not name is headed by its own name in upper case.
   */
  renderAll(items: unknown[], header: (field: string) => string | undefined = () => undefined): string {
    const lines = items.map((i) => this.render(i));
    if (!this.table) return lines.map((l) => `${l}\n`).join("");
    const head = this.parts.map((p) => {
      if (typeof p === "string") return p;
      const field = p.args.find((a): a is { field: string[] } => "field" in a)?.field;
      const name = field?.at(-1) ?? p.fn;
      return header(name) ?? name.toUpperCase();
    });
    const rows = lines.map((l) => l.split("\t"));
    return `${formatTable(head.join("").split("\t"), rows)}\n`;
  }
}

function parse(text: string): Part[] {
  const parts: Part[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf("{{", at);
    if (open < 0) {
      parts.push(text.slice(at));
      break;
    }
    const close = text.indexOf("}}", open + 2);
    if (close < 0) throw new UsageError(`template: unclosed action at "${text.slice(open, open + 20)}"`);
    let literal = text.slice(at, open);
    let body = text.slice(open + 2, close);
    // {{- and -}} trim the white space beside them, as in Go.
    if (body.startsWith("-")) {
      literal = literal.trimEnd();
      body = body.slice(1);
    }
    let next = close + 2;
    if (body.endsWith("-")) {
      body = body.slice(0, -1);
      while (next < text.length && /\s/.test(text[next] as string)) next++;
    }
    if (literal) parts.push(literal);
    parts.push(parseAction(body.trim()));
    at = next;
  }
  return parts;
}

function parseAction(body: string): Action {
  const [first, ...piped] = splitPipes(body);
  if (piped.length > 1) throw new UsageError(`template: {{${body}}}: one pipe at most (${SUPPORTED})`);
  const pipe = piped[0];
  if (pipe !== undefined && !PIPEABLE.has(pipe)) {
    throw new UsageError(`template: {{${body}}}: pipe into json, lower, upper or len, not "${pipe}"`);
  }
  const words = tokens(first ?? "", body);
  const head = words[0];
  if (head === undefined) throw new UsageError(`template: empty action {{${body}}}`);
  if (typeof head === "string" && !head.startsWith(".")) {
    if (CONTROL.includes(head)) {
      throw new UsageError(`template: {{${body}}}: "${head}" is not supported (${SUPPORTED})`);
    }
    if (!(head in FUNCTIONS)) {
      throw new UsageError(
        `template: {{${body}}}: "${head}" is not something weft's --format knows (${SUPPORTED})`,
      );
    }
    return { fn: head, args: words.slice(1).map((w) => argOf(w, body)), pipe };
  }
  if (words.length > 1) throw new UsageError(`template: {{${body}}}: one value per action (${SUPPORTED})`);
  return { fn: "", args: [argOf(head, body)], pipe };
}

/** The action's commands, split at each | that is not inside a string ({{join .Cmd "|"}}). */
function splitPipes(body: string): string[] {
  const out: string[] = [];
  let quote = "";
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "`") quote = c;
    else if (c === "|") {
      out.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(body.slice(start).trim());
  return out;
}

/** Go's control words: printed as text their output would be wrong, so they are refused. */
const CONTROL = ["range", "if", "with", "end", "else", "define", "template", "block"];

/** Functions of one argument, which a value can be piped into. */
const PIPEABLE = new Set(["json", "lower", "upper", "len"]);

/** Words of an action: quoted strings (Go escapes), numbers and bare words. */
function tokens(s: string, body: string): Array<string | { literal: string | number }> {
  const out: Array<string | { literal: string | number }> = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|[^\s]+)/gy;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const w = m[1] as string;
    if (w.startsWith('"')) {
      try {
        out.push({ literal: JSON.parse(w) as string });
      } catch {
        throw new UsageError(`template: {{${body}}}: bad string ${w}`);
      }
    } else if (w.startsWith("`")) out.push({ literal: w.slice(1, -1) });
    else if (/^-?\d+$/.test(w)) out.push({ literal: Number(w) });
    else out.push(w);
  }
  return out;
}

function argOf(w: string | { literal: string | number }, body: string): Arg {
  if (typeof w !== "string") return w;
  if (w === ".") return { field: [] };
  if (/^(\.[A-Za-z_][\w]*)+$/.test(w)) return { field: w.slice(1).split(".") };
  throw new UsageError(`template: {{${body}}}: cannot read "${w}" (${SUPPORTED})`);
}

function evaluate(a: Action, data: unknown): unknown {
  const values = a.args.map((arg) => ("literal" in arg ? arg.literal : readField(data, arg.field)));
  const v = a.fn === "" ? values[0] : (FUNCTIONS[a.fn] as (args: unknown[]) => unknown)(values);
  return a.pipe === undefined ? v : (FUNCTIONS[a.pipe] as (args: unknown[]) => unknown)([v]);
}

function readField(data: unknown, path: string[]): unknown {
  let at = data;
  for (let i = 0; i < path.length; i++) {
    const name = path[i] as string;
    if (at === null || typeof at !== "object" || Array.isArray(at)) {
      throw new UsageError(`template: .${path.slice(0, i + 1).join(".")}: ${printValue(at)} has no fields`);
    }
    const keys = Object.keys(at);
    const key = keys.includes(name) ? name : keys.find((k) => k.toLowerCase() === name.toLowerCase());
    if (key === undefined) {
      throw new UsageError(
        `template: no field "${name}" in .${path.slice(0, i).join(".")}; its fields: ${keys.join(", ")}`,
      );
    }
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** A map's value by key (index): a missing key is Go's zero value, not an error. */
function lookupKey(at: unknown, key: string): unknown {
  if (Array.isArray(at)) return at[Number(key)];
  if (at && typeof at === "object") return (at as Record<string, unknown>)[key];
  return undefined;
}

/** As Go's fmt prints a value with %v: lists "[a b]", maps "map[k:v]" by sorted key. */
function printValue(v: unknown): string {
  if (v === undefined || v === null) return "<no value>";
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return `[${v.map(printValue).join(" ")}]`;
  if (typeof v === "object") {
    const entries = Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, x]) => `${k}:${printValue(x)}`).join(" ")}]`;
  }
  return String(v);
}
