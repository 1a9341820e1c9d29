// Docker's detach keys: a key sequence in an attached client's input (default ctrl-p ctrl-q) that
// leaves the app running and ends the attach. Bytes that start the sequence are held back until the
// next byte decides: the sequence is swallowed, anything else goes through as typed.
import { RuntimeError } from "../errors";

export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

/** "ctrl-p,ctrl-q" (Docker's format: comma-separated, each a single character or ctrl-<char>) to bytes. */
export function parseDetachKeys(spec: string, field = "--detach-keys"): Buffer {
  const keys = spec.split(",").map((k) => {
    const ctrl = /^ctrl-(.)$/i.exec(k);
    if (ctrl) {
      const c = ctrl[1]!.toLowerCase();
      if (c >= "a" && c <= "z") return c.charCodeAt(0) - 96;
      const symbols = "@[\\]^_";
      const i = symbols.indexOf(c);
      if (i >= 0) return i === 0 ? 0 : 26 + i;
    } else if (k.length === 1) {
      return k.charCodeAt(0);
    }
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `${field}: "${k}" is not a key; use a letter or ctrl-<letter>, comma-separated, like ${DEFAULT_DETACH_KEYS}`,
    );
  });
  return Buffer.from(keys);
}

/** Watches input for the sequence; `push` returns the bytes to pass on and whether the user detached. */
export class DetachKeys {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  push(chunk: Buffer): { pass: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { pass: Buffer.from(out), detached: true };
        continue;
      }
      // A broken sequence: what was held back was typed after all.
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]!);
      this.matched = 0;
      if (b === this.keys[0]) this.matched = 1;
      else out.push(b);
    }
    return { pass: Buffer.from(out), detached: false };
  }
}
