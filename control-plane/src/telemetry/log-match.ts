// Full-text matching for lines that have not been queried from SQLite: `follow=true` filters new
// lines as they are stored, and must pick exactly the lines the history query (FTS5 MATCH, built by
// ftsQuery in log-queries.ts) would. So this mirrors the logs_fts table's tokenizer, FTS5's default
// unicode61 with remove_diacritics 1 (database.ts), and FTS5's phrase rules.
// Checked against SQLite code point by code point (log-match.test.ts); characters Unicode assigned
// after SQLite's tables were made (Unicode 6.1) may still split or fold differently.

/**
 * Characters a token is made of: unicode61's default categories (L*, N*, Co) and, as SQLite's
 * table has it, code points Unicode has not assigned.
 */
const TOKEN_CHAR = /[\p{L}\p{N}\p{Co}\p{Cn}]/u;

/**
 * unicode61 with remove_diacritics: these combining diacritics continue a token (they never start
 * one) and are dropped from it. The set is SQLite's (sqlite3Fts5UnicodeIsdiacritic): the marks its
 * Latin letters decompose into, U+0300 to U+0331.
 */
function isDiacritic(cp: number): boolean {
  if (cp < 0x300 || cp > 0x331) return false;
  return cp < 0x320 ? ((0x08029fdf >>> (cp - 0x300)) & 1) === 1 : ((0x000361f8 >>> (cp - 0x320)) & 1) === 1;
}

/**
 * One character as unicode61 indexes it: case-folded one character for one ("µ" is "μ", "ſ" is
 * "s"), then a Latin letter with a single diacritic becomes its base letter ("É" is "e"; "ộ", with
 * two, stays).
 */
function fold(ch: string, cp: number): string {
  if (cp < 0x80) return ch.toLowerCase();
  // Beyond the Basic Multilingual Plane, unicode61 folds only the Deseret alphabet.
  if (cp > 0xffff) return cp >= 0x10400 && cp < 0x10428 ? String.fromCodePoint(cp + 40) : ch;
  // Upper then lower case is simple case folding for all but a few letters (dotless i has none).
  const upper = cp === 0x131 ? ch : ch.toUpperCase();
  const lower = (upper.length === 1 ? upper : ch).toLowerCase();
  const folded = lower.length === 1 ? lower : ch;
  const decomposed = folded.normalize("NFD");
  if (/^[A-Za-z]\p{Mn}$/u.test(decomposed) && isDiacritic(decomposed.codePointAt(1)!))
    return decomposed[0]!.toLowerCase();
  return folded;
}

/** The tokens unicode61 makes of a text, in order. */
export function ftsTokens(text: string): string[] {
  const tokens: string[] = [];
  let current = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    // ASCII (most of any log) without a regular expression: letters and digits make tokens.
    const tokenChar =
      cp < 0x80
        ? (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)
        : TOKEN_CHAR.test(ch);
    if (tokenChar) current += fold(ch, cp);
    else if (isDiacritic(cp) && current !== "") continue;
    else if (current !== "") {
      tokens.push(current);
      current = "";
    }
  }
  if (current !== "") tokens.push(current);
  return tokens;
}

interface Phrase {
  tokens: string[];
  /** The last token is a prefix ("word*"). */
  prefix: boolean;
}

/**
 * A search text as ftsQuery turns it into FTS5 phrases: words split at white space, each a quoted
 * phrase (so "a.b" is the phrase "a b"), a trailing "*" making its last token a prefix. A word
 * without tokens ("--") is ignored beside others, and alone matches nothing, as in FTS5.
 */
export function ftsPhrases(text: string): Phrase[] {
  return text
    .split(/\s+/)
    .filter((w) => w !== "" && w !== "*")
    .map((w) => {
      const prefix = w.endsWith("*");
      return { tokens: ftsTokens(prefix ? w.slice(0, -1) : w), prefix };
    });
}

function hasPhrase(tokens: string[], p: Phrase): boolean {
  const n = p.tokens.length;
  for (let i = 0; i + n <= tokens.length; i++) {
    let j = 0;
    for (; j < n; j++) {
      const want = p.tokens[j]!;
      const got = tokens[i + j]!;
      if (j === n - 1 && p.prefix ? !got.startsWith(want) : got !== want) break;
    }
    if (j === n) return true;
  }
  return false;
}

/**
 * A matcher for one search text: true for a message the history query would find. An empty search
 * (no words) matches everything, as the query then has no text condition.
 */
export function ftsMatcher(text: string): (message: string) => boolean {
  const words = ftsPhrases(text);
  if (words.length === 0) return () => true;
  const phrases = words.filter((p) => p.tokens.length > 0);
  if (phrases.length === 0) return () => false;
  return (message) => {
    const tokens = ftsTokens(message);
    return phrases.every((p) => hasPhrase(tokens, p));
  };
}
