// Interactive exec over plain HTTP/1.1 (no upgrade): the request body is the process's stdin, the
// response is framed output, both streaming at once. A frame is Docker's 8-byte header (stream 1
// stdout, 2 stderr, 3 exit; three zero bytes; big-endian length) and the payload; the exit frame's
// payload is the exit code in decimal. With tty, stdout carries the terminal's output.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable, Writable } from "node:stream";
import { RuntimeError } from "../errors";
import { queryBool } from "./http";

export const FRAME_STDOUT = 1;
export const FRAME_STDERR = 2;
export const FRAME_EXIT = 3;

export interface ExecStreamApi {
  execStream(
    ref: string,
    o: { cmd: string[]; tty: boolean; env?: string[]; user?: string; workdir?: string },
  ): {
    stdin: Writable;
    stdout: Readable;
    stderr: Readable;
    exited: Promise<number>;
    resize?(rows: number, cols: number): Promise<boolean>;
  };
}

export function frame(stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Splits a byte stream into frames as they complete. */
export class FrameReader {
  private buf = Buffer.alloc(0);

  push(chunk: Buffer): Array<{ stream: number; payload: Buffer }> {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: Array<{ stream: number; payload: Buffer }> = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      out.push({ stream: this.buf[0]!, payload: this.buf.subarray(8, 8 + len) });
      this.buf = this.buf.subarray(8 + len);
    }
    return out;
  }
}

/** POST /weft/v1/containers/{ref}/exec/stream?cmd=A&cmd=B&tty=1&interactive=1&env=K=V&user=U&workdir=D
 * &rows=R&cols=C (the terminal's size, with tty) */
export async function execStreamRoute(
  engine: ExecStreamApi,
  req: IncomingMessage,
  res: ServerResponse,
  ref: string,
  query: URLSearchParams,
): Promise<void> {
  const cmd = query.getAll("cmd");
  if (cmd.length === 0)
    throw new RuntimeError("INVALID_ARGUMENT", "cmd must name a command to run (cmd=...)");
  const tty = queryBool(query, "tty");
  const interactive = queryBool(query, "interactive");
  const p = engine.execStream(ref, {
    cmd,
    tty,
    env: query.getAll("env"),
    user: query.get("user") || undefined,
    workdir: query.get("workdir") || undefined,
  });
  const rows = Number(query.get("rows") ?? 0);
  const cols = Number(query.get("cols") ?? 0);
  if (tty && p.resize && Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0)
    void p.resize(Math.min(rows, 1000), Math.min(cols, 1000));
  res.writeHead(200, { "Content-Type": "application/vnd.weft.multiplexed-stream" });
  res.flushHeaders();
  if (interactive) req.pipe(p.stdin);
  else {
    req.resume();
    // With a terminal, an EOF on its input would be typed into it ("^@"): leave it open instead.
    if (!tty) p.stdin.end();
  }
  // A client that goes away ends the process's stdin (as a closed terminal would).
  res.once("close", () => p.stdin.end());
  p.stdin.on("error", () => undefined);
  p.stdout.on("data", (b: Buffer) => res.write(frame(FRAME_STDOUT, b)));
  p.stderr.on("data", (b: Buffer) => res.write(frame(FRAME_STDERR, b)));
  const outputDone = Promise.all([
    new Promise((r) => p.stdout.once("close", r)),
    new Promise((r) => p.stderr.once("close", r)),
  ]);
  const code = await p.exited;
  await outputDone;
  p.stdin.destroy();
  res.end(frame(FRAME_EXIT, Buffer.from(String(code))));
}
