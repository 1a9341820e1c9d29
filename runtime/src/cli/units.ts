// Parsing of the human units `weft run` takes (--memory 64m, --cpus 0.5, --pids 100).
import { UsageError } from "../../../cli/index";

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "64m", "1g", "512k", "1048576" → bytes (binary units, as Docker). */
export function parseSize(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)i?b?$/i.exec(text.trim());
  const bytes = m ? Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!) : Number.NaN;
  if (!Number.isFinite(bytes) || bytes <= 0) {
    throw new UsageError(`${flag} expects a size like 64m, 512k or 1g, got "${text}"`);
  }
  return bytes;
}

export function parsePositive(flag: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} expects a positive ${integer ? "integer" : "number"}, got "${text}"`);
  }
  return n;
}
