// Output as docker and kubectl print it: an upper-case header and columns padded to the widest cell.

/** Formats rows under headers, three spaces between columns, no trailing spaces. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("   ")
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join("\n");
}

/** Prints a table, or the raw objects as JSON when `json` is set (for --json). */
export function printList<T>(
  items: T[],
  json: boolean,
  headers: string[],
  toRow: (item: T) => string[],
): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${formatTable(headers, items.map(toRow))}\n`);
}
