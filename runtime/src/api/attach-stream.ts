// Attach over plain HTTP/1.1 (no upgrade), as `weft run -i/-t` and `weft attach` use it:
// POST /weft/v1/containers/{ref}/attach?stdin=1&logs=1. The request body (chunked) is the app's stdin
// and its end closes a stdin-once app's stdin; the response is Docker-style frames (exec-stream.ts):
// stdout, stderr, and an exit frame with the app's exit code once it is done. A client that detaches
// just goes away: the app keeps running. Attaching to a created container is how `run` avoids missing
// the app's first output: attach, then start.
// POST /weft/v1/containers/{ref}/resize?h=ROWS&w=COLS resizes a -t container's terminal.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Writable } from "node:stream";
import type { ContainerState, EngineEvent, LogEntry } from "../engine/types";
import { RuntimeError } from "../errors";
import { FRAME_EXIT, FRAME_STDERR, FRAME_STDOUT, frame } from "./exec-stream";
import { queryBool } from "./http";

export interface AttachApi {
  inspect(ref: string): Promise<ContainerState>;
  subscribe(listener: (e: EngineEvent) => void): () => void;
  attach(
    ref: string,
    signal?: AbortSignal,
    o?: { logs?: boolean },
  ): { stdin?: Writable; output: AsyncIterable<LogEntry> };
  resize(ref: string, rows: number, cols: number): void;
}

export async function attachStreamRoute(
  engine: AttachApi,
  req: IncomingMessage,
  res: ServerResponse,
  ref: string,
  query: URLSearchParams,
): Promise<void> {
  const state = await engine.inspect(ref);
  if (state.status === "exited") {
    throw new RuntimeError(
      "CONTAINER_NOT_RUNNING",
      `container "${state.name}" is not running; start it with 'weft start ${state.name}' first`,
    );
  }
  // Before anything can end: the exit this attach reports (the app's `die`), also for an app that is
  // removed at once (--rm). Unsubscribed when the attach ends, however it ends.
  let exitCode: string | undefined;
  let noticed = () => {};
  const died = new Promise<void>((resolve) => {
    noticed = resolve;
  });
  const unsubscribe = engine.subscribe((e) => {
    if (e.id !== state.id || e.action !== "die") return;
    exitCode = e.attributes.exitCode ?? "0";
    noticed();
  });
  try {
    await stream(engine, req, res, state, query, died, () => exitCode);
  } finally {
    unsubscribe();
  }
}

async function stream(
  engine: AttachApi,
  req: IncomingMessage,
  res: ServerResponse,
  state: ContainerState,
  query: URLSearchParams,
  died: Promise<void>,
  exitCode: () => string | undefined,
): Promise<void> {
  const wantStdin = queryBool(query, "stdin");
  const gone = new AbortController();
  const attached = engine.attach(state.id, gone.signal, { logs: queryBool(query, "logs") });
  if (wantStdin && state.interactive && !attached.stdin) {
    gone.abort();
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      "this daemon cannot pass input to a container's app: install the socat package on its host (or use 'weft exec -i')",
    );
  }
  res.writeHead(200, { "Content-Type": "application/vnd.weft.multiplexed-stream" });
  res.flushHeaders();
  const stdin = wantStdin ? attached.stdin : undefined;
  // The end of the client's input closes the app's stdin only for a stdin-once app without a tty
  // (the monitor knows which); the output runs on to the app's end either way.
  if (stdin) req.pipe(stdin);
  else req.resume();
  res.once("close", () => {
    gone.abort();
    // Gone without ending its input (detached, or the connection broke): drop the connection.
    if (stdin && !stdin.writableEnded) stdin.destroy();
  });
  for await (const e of attached.output) {
    if (res.destroyed) break;
    res.write(frame(e.stream === "stderr" ? FRAME_STDERR : FRAME_STDOUT, e.data));
  }
  if (gone.signal.aborted) {
    if (!res.destroyed) res.end();
    return;
  }
  // The log ends when the app's exit is recorded, just before `die` is told; removed before it ever
  // ran, there is no exit to report and the response ends without an exit frame.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([died, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
  clearTimeout(timer);
  const code = exitCode();
  if (code !== undefined) res.end(frame(FRAME_EXIT, Buffer.from(code)));
  else res.end();
}

export async function resizeRoute(
  engine: AttachApi,
  res: ServerResponse,
  ref: string,
  query: URLSearchParams,
): Promise<void> {
  const size = (name: string) => {
    const v = query.get(name) ?? "";
    if (!/^\d+$/.test(v) || Number(v) > 1000) {
      throw new RuntimeError("INVALID_ARGUMENT", `${name} must be a whole number from 0 to 1000, got "${v}"`);
    }
    return Number(v);
  };
  engine.resize(ref, size("h"), size("w"));
  res.writeHead(204).end();
}
