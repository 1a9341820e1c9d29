// The client side of an attach (`weft run -i/-t`, `weft attach`): this terminal's input to the app
// (raw mode with -t, the detach keys leave the app running), the app's output here as it comes, the
// terminal's size to the app at start and on every SIGWINCH, and the app's exit code at the end.
import { PassThrough } from "node:stream";
import type { EngineClient } from "../api/client";
import { DetachKeys } from "../api/detach-keys";
import { FRAME_EXIT, FRAME_STDERR, FRAME_STDOUT, FrameReader } from "../api/exec-stream";
import { ref } from "./client";

export interface AttachSessionOptions {
  /** Send this process's stdin to the app. */
  stdin: boolean;
  /** The app has a terminal: raw mode here (when stdin is one) and size updates. */
  tty: boolean;
  /** Also the output written before the attach (a container just created: all of it). */
  logs: boolean;
  detachKeys: Buffer;
  /** Runs once the daemon attached, before any output is read (`run` starts the container here). */
  afterAttach?: () => Promise<void>;
}

/** Resolves with the app's exit code, or 0 when the user detached. */
export async function attachSession(
  client: EngineClient,
  id: string,
  o: AttachSessionOptions,
): Promise<number> {
  const raw = o.stdin && o.tty && process.stdin.isTTY === true;
  let detached = false;
  let input: PassThrough | undefined;
  let onDetach = () => {};
  if (o.stdin) {
    const keys = new DetachKeys(o.detachKeys);
    input = new PassThrough();
    const feed = input;
    process.stdin.on("data", (chunk: Buffer) => {
      if (detached) return;
      const { pass, detached: now } = keys.push(chunk);
      if (pass.length > 0) feed.write(pass);
      if (now) {
        detached = true;
        onDetach();
      }
    });
    // End of this input ends the app's input (a stdin-once app sees EOF, as with `docker run -i`).
    process.stdin.once("end", () => feed.end());
  }
  const q = new URLSearchParams();
  if (o.stdin) q.set("stdin", "1");
  if (o.logs) q.set("logs", "1");
  const resize = () => {
    const rows = process.stdout.rows;
    const cols = process.stdout.columns;
    if (!o.tty || !process.stdout.isTTY || !rows || !cols) return;
    client.call("POST", `/containers/${ref(id)}/resize?h=${rows}&w=${cols}`).catch(() => undefined);
  };
  // Without a terminal, ctrl-c and friends are this process's signals: passed on to the app, as
  // docker's --sig-proxy does (with -t they are keystrokes that the app's terminal turns into signals).
  const proxy = (signal: NodeJS.Signals) => {
    client.call("POST", `/containers/${ref(id)}/kill?signal=${signal}`).catch(() => undefined);
  };
  const proxied: NodeJS.Signals[] = o.tty ? [] : ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
  for (const s of proxied) process.on(s, proxy);
  if (raw) process.stdin.setRawMode(true);
  try {
    const res = await client.duplex("POST", `/containers/${ref(id)}/attach?${q}`, input);
    onDetach = () => res.destroy();
    await o.afterAttach?.();
    resize();
    process.on("SIGWINCH", resize);
    const frames = new FrameReader();
    let code: number | undefined;
    try {
      for await (const chunk of res) {
        for (const f of frames.push(chunk as Buffer)) {
          if (f.stream === FRAME_STDOUT) process.stdout.write(f.payload);
          else if (f.stream === FRAME_STDERR) process.stderr.write(f.payload);
          else if (f.stream === FRAME_EXIT) code = Number(f.payload.toString());
        }
      }
    } catch (err) {
      if (!detached) throw err;
    }
    if (detached) return 0;
    if (code === undefined) {
      process.stderr.write(`weft: the attach to ${id.slice(0, 12)} ended without the app's exit code\n`);
      return 1;
    }
    return code;
  } finally {
    process.off("SIGWINCH", resize);
    for (const s of proxied) process.off(s, proxy);
    if (raw) process.stdin.setRawMode(false);
    // Our stdin would keep the process alive after the app ended.
    if (o.stdin) process.stdin.destroy();
  }
}
