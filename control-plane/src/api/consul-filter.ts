// Consul's `?filter=` expressions (go-bexpr's language) over the JSON an endpoint answers, so a
// client asking for `Service.Meta.version == "v2"` gets the v2 instances, not every instance: an
// ignored filter would hand it the whole list as if it matched.
//
//   Expr  := Or;  Or := And ("or" And)*;  And := Not ("and" Not)*;  Not := "not" Not | "(" Or ")" | Match
//   Match := Sel "==" Val | Sel "!=" Val | Sel "is" ["not"] "empty" | Val ["not"] "in" Sel
//          | Sel ["not"] "contains" Val | Sel ["not"] "matches" Val
//   Sel   := Name ("." Name | "[" String "]")*      Val := String | Number | true | false | Name
//
// A selector that finds nothing is empty: == is false, != true, `is empty` true. `in`/`contains`
// test a list's items, a map's keys or a string's substrings.

import { type FilterSchema, selectorProblem } from "./consul-filter-schema";

export class FilterError extends Error {}

type Token =
  | { kind: "word"; text: string; at: number }
  | { kind: "string"; text: string; at: number }
  | { kind: "op"; text: "==" | "!=" | "(" | ")" | "[" | "]"; at: number };

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Longest expression taken; a filter is a short line. */
const MAX_LENGTH = 4096;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "=" || c === "!") {
      if (src[i + 1] !== "=") throw new FilterError(`unexpected "${c}" at ${i + 1}; use == or !=`);
      out.push({ kind: "op", text: c === "=" ? "==" : "!=", at: i });
      i += 2;
      continue;
    }
    if ("()[]".includes(c)) {
      out.push({ kind: "op", text: c as "(" | ")" | "[" | "]", at: i });
      i++;
      continue;
    }
    if (c === '"' || c === "`") {
      let j = i + 1;
      let text = "";
      while (j < src.length && src[j] !== c) {
        if (c === '"' && src[j] === "\\" && j + 1 < src.length) {
          const e = src[j + 1]!;
          text += e === "n" ? "\n" : e === "t" ? "\t" : e;
          j += 2;
        } else text += src[j++];
      }
      if (j >= src.length) throw new FilterError(`the string starting at ${i + 1} is not closed`);
      out.push({ kind: "string", text, at: i });
      i = j + 1;
      continue;
    }
    const m = /^[A-Za-z0-9_.\-+:/]+/.exec(src.slice(i));
    if (!m) throw new FilterError(`unexpected "${c}" at ${i + 1}`);
    out.push({ kind: "word", text: m[0], at: i });
    i += m[0].length;
  }
  return out;
}

type Path = string[];
type Node =
  | { op: "or" | "and"; left: Node; right: Node }
  | { op: "not"; inner: Node }
  | { op: "eq" | "ne" | "contains" | "matches"; path: Path; value: string; negate: boolean; re?: RegExp }
  | { op: "empty"; path: Path; negate: boolean };

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    if (this.tokens.length === 0) throw new FilterError("the filter is empty");
    const node = this.or();
    const rest = this.tokens[this.i];
    if (rest) throw new FilterError(`unexpected "${rest.text}" at ${rest.at + 1}`);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private isWord(text: string, t = this.peek()): boolean {
    return t?.kind === "word" && t.text === text;
  }

  private take(): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new FilterError("the filter ends too soon");
    return t;
  }

  private or(): Node {
    let left = this.and();
    while (this.isWord("or")) {
      this.i++;
      left = { op: "or", left, right: this.and() };
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.isWord("and")) {
      this.i++;
      left = { op: "and", left, right: this.not() };
    }
    return left;
  }

  private not(): Node {
    if (this.isWord("not")) {
      this.i++;
      return { op: "not", inner: this.not() };
    }
    const t = this.peek();
    if (t?.kind === "op" && t.text === "(") {
      this.i++;
      const inner = this.or();
      const close = this.take();
      if (close.text !== ")" || close.kind !== "op") throw new FilterError(`expected ")" at ${close.at + 1}`);
      return inner;
    }
    return this.match();
  }

  private match(): Node {
    // `"value" [not] in Selector` starts with the value.
    const first = this.peek();
    const next = this.tokens[this.i + 1];
    const afterNot = this.tokens[this.i + 2];
    if (first && (this.isWord("in", next) || (this.isWord("not", next) && this.isWord("in", afterNot)))) {
      const value = this.value();
      const negate = this.isWord("not");
      this.i += negate ? 2 : 1;
      return { op: "contains", path: this.selector(), value, negate };
    }
    const path = this.selector();
    const op = this.take();
    if (op.kind === "op" && (op.text === "==" || op.text === "!=")) {
      return { op: op.text === "==" ? "eq" : "ne", path, value: this.value(), negate: false };
    }
    if (op.kind === "word" && op.text === "is") {
      const negate = this.isWord("not");
      if (negate) this.i++;
      if (!this.isWord("empty")) throw new FilterError(`expected "empty" after "is" at ${op.at + 1}`);
      this.i++;
      return { op: "empty", path, negate };
    }
    let negate = false;
    let verb = op;
    if (op.kind === "word" && op.text === "not") {
      negate = true;
      verb = this.take();
    }
    if (verb.kind === "word" && verb.text === "contains")
      return { op: "contains", path, value: this.value(), negate };
    if (verb.kind === "word" && verb.text === "matches") {
      const value = this.value();
      let re: RegExp;
      try {
        re = new RegExp(value);
      } catch (err) {
        throw new FilterError(`"${value}" is not a regular expression: ${(err as Error).message}`);
      }
      return { op: "matches", path, value, negate, re };
    }
    throw new FilterError(
      `expected ==, !=, is empty, contains, matches or in at ${verb.at + 1}, got "${verb.text}"`,
    );
  }

  private selector(): Path {
    const head = this.take();
    const names = head.kind === "word" ? head.text.split(".") : [];
    if (names.length === 0 || !names.every((n) => NAME.test(n)))
      throw new FilterError(
        `expected a selector (like Service.Meta.version) at ${head.at + 1}, got "${head.text}"`,
      );
    const path = names;
    for (;;) {
      const t = this.peek();
      if (t?.kind !== "op" || t.text !== "[") return path;
      this.i++;
      const key = this.take();
      if (key.kind !== "string")
        throw new FilterError(`expected a quoted map key after "[" at ${key.at + 1}`);
      const close = this.take();
      if (close.kind !== "op" || close.text !== "]") throw new FilterError(`expected "]" at ${close.at + 1}`);
      path.push(key.text);
      // Service.Meta["a.b"].more: a name may follow a bracketed key.
      const after = this.peek();
      if (after?.kind === "word" && after.text.startsWith(".")) {
        this.i++;
        const more = after.text.slice(1).split(".");
        if (!more.every((n) => NAME.test(n))) throw new FilterError(`expected a name at ${after.at + 2}`);
        path.push(...more);
      }
    }
  }

  private value(): string {
    const t = this.take();
    if (t.kind === "string" || t.kind === "word") return t.text;
    throw new FilterError(`expected a value at ${t.at + 1}, got "${t.text}"`);
  }
}

function lookup(item: unknown, path: Path): unknown {
  let v = item;
  for (const key of path) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
    v = Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === "") return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v).length === 0;
  return false;
}

/** A scalar as the expression's text compares to it (Port == 8080, Passing == true). */
function scalarText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function contains(v: unknown, value: string): boolean {
  if (typeof v === "string") return v.includes(value);
  if (Array.isArray(v)) return v.some((x) => scalarText(x) === value);
  if (v !== null && typeof v === "object") return Object.hasOwn(v, value);
  return false;
}

function evaluate(node: Node, item: unknown): boolean {
  switch (node.op) {
    case "or":
      return evaluate(node.left, item) || evaluate(node.right, item);
    case "and":
      return evaluate(node.left, item) && evaluate(node.right, item);
    case "not":
      return !evaluate(node.inner, item);
    case "empty":
      return isEmpty(lookup(item, node.path)) !== node.negate;
    case "eq":
    case "ne": {
      const text = scalarText(lookup(item, node.path));
      return (text === node.value) === (node.op === "eq");
    }
    case "contains":
      return contains(lookup(item, node.path), node.value) !== node.negate;
    case "matches": {
      const text = scalarText(lookup(item, node.path));
      return (text !== undefined && node.re!.test(text)) !== node.negate;
    }
  }
}

function selectors(node: Node): Path[] {
  switch (node.op) {
    case "or":
    case "and":
      return [...selectors(node.left), ...selectors(node.right)];
    case "not":
      return selectors(node.inner);
    default:
      return [node.path];
  }
}

/** The predicate a filter expression stands for; FilterError says what is wrong with one. With a
 * `schema` (the fields of the items it will select), a selector naming no field of it is an error,
 * as in Consul, rather than a filter that quietly matches nothing. */
export function compileFilter(expression: string, schema?: FilterSchema): (item: unknown) => boolean {
  if (expression.length > MAX_LENGTH)
    throw new FilterError(`the filter is longer than ${MAX_LENGTH} characters`);
  const node = new Parser(tokenize(expression)).parse();
  if (schema) {
    for (const path of selectors(node)) {
      const problem = selectorProblem(schema, path);
      if (problem) throw new FilterError(problem);
    }
  }
  return (item) => evaluate(node, item);
}
