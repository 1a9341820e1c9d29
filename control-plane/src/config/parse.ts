// Text to documents: JSON (one object or a list) or multi-document YAML. Syntax errors say where
// (line and column) so the user can find them; what the documents mean is validate.ts's job.
import { parseAllDocuments } from "yaml";
import { ConfigError } from "./errors";
import { jsonErrorOffset } from "./json-position";

export interface ParsedDocument {
  value: unknown;
  /** Where it came from, for messages: "document 2", or "document 1, item 3" for a YAML/JSON list. */
  origin: string;
}

/** Parses JSON when the text starts with '{' or '[' (or `json` is set), else YAML; skips empty YAML documents. */
export function parseDocuments(text: string, options: { json?: boolean } = {}): ParsedDocument[] {
  const trimmed = text.trimStart();
  if (options.json || trimmed.startsWith("{") || trimmed.startsWith("[")) return parseJson(text);
  return parseYaml(text);
}

function parseJson(text: string): ParsedDocument[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const offset = jsonErrorOffset(text) ?? text.length;
    const found =
      offset < text.length ? `unexpected ${JSON.stringify(text[offset])}` : "unexpected end of input";
    throw new ConfigError("BAD_DOCUMENT", `malformed JSON ${lineColumn(text, offset)}: ${found}`);
  }
  if (Array.isArray(value)) return value.map((v, i) => ({ value: v, origin: `document ${i + 1}` }));
  return [{ value, origin: "document 1" }];
}

function parseYaml(text: string): ParsedDocument[] {
  const out: ParsedDocument[] = [];
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return out; // only an empty stream has no documents at all
  docs.forEach((doc, i) => {
    const error = doc.errors[0];
    if (error) {
      const pos = error.linePos?.[0];
      const where = pos ? `at line ${pos.line}, column ${pos.col}` : `in document ${i + 1}`;
      throw new ConfigError(
        "BAD_DOCUMENT",
        `malformed YAML ${where}: ${error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`,
      );
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias without its anchor, or past the alias count (a "billion laughs" file): found only
      // when the values are built, and thrown as a ReferenceError, which the API answered with 500.
      throw new ConfigError("BAD_DOCUMENT", `malformed YAML in document ${i + 1}: ${(err as Error).message}`);
    }
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((v, j) => {
        out.push({ value: v, origin: `document ${i + 1}, item ${j + 1}` });
      });
    } else {
      out.push({ value, origin: `document ${i + 1}` });
    }
  });
  return out;
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `at line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}
