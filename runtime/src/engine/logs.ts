// The app's log as the monitor writes it (k8s-file: `TIME STREAM F|P DATA`, one line per write that
// ended a line (F) or a partial one (P)), read back as LogEntry values, with follow.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import type { LogEntry, LogQuery } from "./types";

const HEAD_RE = /^(\S+) (stdout|stderr) ([FP])/;

/** One k8s-file line (without its newline); undefined for a line that is not one. The data stays bytes
 * (an app's output need not be UTF-8, and conmon splits long output at any byte). */
export function parseK8sLine(line: string | Buffer): LogEntry | undefined {
  const buf = typeof line === "string" ? Buffer.from(line) : line;
  // The header is ASCII and short; only it is decoded.
  const m = HEAD_RE.exec(buf.subarray(0, 96).toString("latin1"));
  if (!m) return undefined;
  let start = m[0].length;
  if (buf[start] === 0x20) start++;
  const data = buf.subarray(start);
  return {
    time: normalizeTime(m[1]!),
    stream: m[2] as "stdout" | "stderr",
    data: m[3] === "F" ? Buffer.concat([data, NEWLINE]) : Buffer.from(data),
  };
}

const NEWLINE = Buffer.from("\n");

/** conmon writes 2026-11-29T14:26:08.094155727+00:00; keep the nanoseconds, say Z. */
function normalizeTime(t: string): string {
  return t.replace(/\+00:00$/, "Z");
}

/** Milliseconds since the epoch of an entry (nanoseconds dropped). */
export function entryTimeMs(e: LogEntry): number {
  return Date.parse(e.time.replace(/(\.\d{3})\d+/, "$1"));
}

function wanted(e: LogEntry, q: LogQuery): boolean {
  if (e.stream === "stdout" ? !q.stdout : !q.stderr) return false;
  const t = entryTimeMs(e);
  if (q.since && t < q.since.getTime()) return false;
  if (q.until && t > q.until.getTime()) return false;
  return true;
}

/** A reader that keeps its place in the log, and starts over when the monitor rotated (truncated) it. */
export class LogReader {
  private offset = 0;
  private ino = -1;
  private rest = Buffer.alloc(0);

  constructor(private readonly path: string) {}

  /** Entries written since the last call. */
  readNew(): LogEntry[] {
    let fd: number;
    try {
      fd = openSync(this.path, "r");
    } catch {
      return [];
    }
    try {
      const st = fstatSync(fd);
      if (st.ino !== this.ino || st.size < this.offset) {
        this.ino = st.ino;
        this.offset = 0;
        this.rest = Buffer.alloc(0);
      }
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
        this.offset += n;
      }
      const bytes = Buffer.concat([this.rest, ...chunks]);
      const out: LogEntry[] = [];
      let from = 0;
      for (let nl = bytes.indexOf(0x0a); nl >= 0; nl = bytes.indexOf(0x0a, from)) {
        const e = parseK8sLine(bytes.subarray(from, nl));
        if (e) out.push(e);
        from = nl + 1;
      }
      this.rest = Buffer.from(bytes.subarray(from));
      return out;
    } finally {
      closeSync(fd);
    }
  }

  /** The file's size now (0 when missing). */
  size(): number {
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }
}

/**
 * Entries matching q; with follow, keeps polling until `done()` says the app will write no more (and
 * what it wrote is read) or the consumer stops iterating. Where the stream starts (with tail 0: the
 * log's end) is read at this call, not at the first next(): a caller that attaches, starts the app and
 * only then iterates must still see what a quick app wrote in between.
 */
export function streamLog(
  path: string,
  q: LogQuery,
  o: { done: () => boolean; sleep: (ms: number) => Promise<void>; pollMs?: number; signal?: AbortSignal },
): AsyncGenerator<LogEntry> {
  const reader = new LogReader(path);
  let first = reader.readNew().filter((e) => wanted(e, q));
  if (q.tail !== undefined && q.tail >= 0) first = q.tail === 0 ? [] : first.slice(-q.tail);
  return followLog(reader, first, q, o);
}

async function* followLog(
  reader: LogReader,
  first: LogEntry[],
  q: LogQuery,
  o: { done: () => boolean; sleep: (ms: number) => Promise<void>; pollMs?: number; signal?: AbortSignal },
): AsyncGenerator<LogEntry> {
  for (const e of first) yield e;
  if (!q.follow) return;
  for (;;) {
    // Read `done` before reading the file: whatever the app wrote before it ended is then read.
    const finished = o.done();
    for (const e of reader.readNew()) {
      if (q.until && entryTimeMs(e) > q.until.getTime()) return;
      if (wanted(e, q)) yield e;
    }
    if (finished || o.signal?.aborted) return;
    if (q.until && Date.now() > q.until.getTime()) return;
    await o.sleep(o.pollMs ?? 200);
  }
}
