import { readFileSync } from "node:fs";

/** A text file's contents, or "" when it cannot be read (gone, or never written). */
export function readTextOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
