// Hijacked connections: `docker attach`/`run -it` (POST /containers/{id}/attach) and `docker exec`
// (POST /exec/{id}/start) send `Upgrade: tcp`; the answer is "101 UPGRADED" and then the raw socket
// carries stdin one way and output the other (framed with the 8-byte header unless there is a tty).
import type { IncomingMessage } from "node:http";
import type { Duplex, Readable, Writable } from "node:stream";
import { httpStatusOf } from "../../errors";
import { DEFAULT_DETACH_KEYS, DetachKeys, parseDetachKeys } from "../detach-keys";
import type { DockerEngine } from "./engine";
import type { ExecStore } from "./exec-store";
import { logChunk, MUX_STREAM, RAW_STREAM } from "./logs-stats";
import { badRequest, dockerError, flag, frame, MAX_API_VERSION } from "./wire";

/** One side of a hijacked (or plain streamed) exchange. */
export interface StreamConn {
  write(chunk: Buffer): void;
  end(): void;
  /** The client's stdin; absent on a plain HTTP response. */
  input?: Readable;
  closed: Promise<void>;
}

/** Reads the Content-Length body that follows the headers; what comes after it is the client's stdin. */
export function readUpgradeBody(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<{ body: Buffer; rest: Buffer }> {
  const length = Number(req.headers["content-length"] ?? 0);
  return new Promise((resolve, reject) => {
    let buf = head;
    const done = () => {
      socket.off("data", onData);
      socket.off("error", reject);
      socket.pause();
      resolve({ body: buf.subarray(0, length), rest: buf.subarray(length) });
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= length) done();
    };
    if (buf.length >= length) return done();
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

/** Answers an upgrade request that cannot proceed with an ordinary HTTP error. */
export function rejectUpgrade(socket: Duplex, err: unknown): void {
  const status = httpStatusOf(err);
  const text = JSON.stringify({ message: err instanceof Error ? err.message : String(err) });
  socket.end(
    `HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nApi-Version: ${MAX_API_VERSION}\r\nConnection: close\r\n\r\n${text}`,
  );
}

/** Sends "101 UPGRADED" and wraps the socket; `rest` (bytes after the body) is replayed as input. */
export function upgradeConn(socket: Duplex, rest: Buffer, tty: boolean): StreamConn {
  socket.write(
    `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${tty ? RAW_STREAM : MUX_STREAM}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${MAX_API_VERSION}\r\n\r\n`,
  );
  if (rest.length > 0) socket.unshift(rest);
  socket.resume();
  // A client that goes away mid-write (killed, or detached) is an EPIPE here, not the daemon's crash.
  socket.on("error", () => socket.destroy());
  return {
    write: (chunk) => {
      if (!socket.destroyed && socket.writable) socket.write(chunk);
    },
    end: () => socket.end(),
    input: socket,
    closed: new Promise((resolve) => socket.once("close", () => resolve())),
  };
}

/** Copies the client's input into `stdin`; the client's half-close (end of stdin) closes it. With
 * `detach`, the detach keys in the input end the attach instead (the app keeps running). */
function pipeInput(
  input: Readable | undefined,
  stdin: Writable | undefined,
  detach?: { keys: DetachKeys; onDetach: () => void },
): void {
  if (!stdin) {
    input?.resume();
    return;
  }
  if (!input) {
    stdin.end();
    return;
  }
  stdin.on("error", () => undefined);
  let detached = false;
  input.on("data", (chunk: Buffer) => {
    if (detached || stdin.writableEnded) return;
    if (!detach) {
      stdin.write(chunk);
      return;
    }
    const { pass, detached: now } = detach.keys.push(chunk);
    if (pass.length > 0) stdin.write(pass);
    if (now) {
      detached = true;
      detach.onDetach();
    }
  });
  input.once("end", () => stdin.end());
  input.once("close", () => {
    if (!stdin.writableEnded) stdin.end();
  });
}

/** Container attach: live output (and stdin when the container was created with -i). */
export async function attachContainer(
  engine: DockerEngine,
  ref: string,
  query: URLSearchParams,
  open: (tty: boolean) => StreamConn,
): Promise<void> {
  const state = await engine.inspect(ref);
  const tty = state.tty === true;
  const wantOut = flag(query, "stdout");
  const wantErr = flag(query, "stderr");
  const wantIn = flag(query, "stdin");
  if (!flag(query, "stream") && !flag(query, "logs")) throw badRequest("attach needs stream=1 or logs=1");
  const keys = parseDetachKeys(query.get("detachKeys") || DEFAULT_DETACH_KEYS, "detachKeys");
  const gone = new AbortController();
  // With logs=1 the attach's own follow starts at the log's beginning: no gap, nothing twice.
  const attached = flag(query, "stream")
    ? engine.attach(state.id, gone.signal, { logs: flag(query, "logs") })
    : undefined;
  const conn = open(tty);
  if (!attached) {
    for await (const e of engine.logStream(state.id, { stdout: wantOut, stderr: wantErr, follow: false })) {
      conn.write(logChunk(e, false, tty));
    }
    return conn.end();
  }
  if (wantIn && !attached.stdin) {
    // Said on the stream rather than refused: the output still works, and nothing is left half-made.
    const note = Buffer.from("weft: this container was not created with -i (OpenStdin); input is ignored\n");
    conn.write(tty ? note : frame("stderr", note));
  }
  // As dockerd: the detach keys end this attach and leave the app running.
  // Without stdin=1 the app's stdin is left alone (ending it would close a stdin-once app's input).
  if (wantIn) {
    // The end of the client's input ends the app's only for a stdin-once app without a tty (the
    // monitor knows which); the output runs on to the app's end either way (the CLI waits for it).
    pipeInput(conn.input, attached.stdin, { keys: new DetachKeys(keys), onDetach: () => conn.end() });
  } else {
    conn.input?.resume();
  }
  const iterator = attached.output[Symbol.asyncIterator]();
  void conn.closed.then(() => {
    gone.abort();
    void iterator.return?.();
  });
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    const e = next.value;
    if ((e.stream === "stdout" && wantOut) || (e.stream === "stderr" && wantErr))
      conn.write(logChunk(e, false, tty));
  }
  conn.end();
}

/** Exec start: runs the instance's command with its output on `conn`; records the exit code. */
export async function startExec(
  engine: DockerEngine,
  execs: ExecStore,
  id: string,
  open: (tty: boolean) => StreamConn | undefined,
): Promise<void> {
  const exec = execs.get(id);
  if (exec.started) throw dockerError(409, `exec ${id} has already been started`);
  const state = await engine.inspect(exec.containerId);
  if (state.status !== "running") throw dockerError(409, `container ${state.id} is not running`);
  const proc = engine.execStream(state.id, exec.options);
  exec.started = true;
  exec.running = true;
  if (proc.resize) {
    exec.resize = proc.resize;
    // The size the start asked for (ConsoleSize), or a resize that came before the start.
    if (exec.size) void proc.resize(exec.size.rows, exec.size.cols);
  }
  const tty = exec.options.tty;
  const conn = open(tty);
  pipeInput(exec.attachStdin ? conn?.input : undefined, proc.stdin);
  const copy = (stream: Readable, name: "stdout" | "stderr", wanted: boolean) =>
    new Promise<void>((resolve) => {
      stream.on("data", (chunk: Buffer) => {
        if (wanted && conn) conn.write(tty ? chunk : frame(name, chunk));
      });
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.once("error", () => resolve());
    });
  const copied = Promise.all([
    copy(proc.stdout, "stdout", exec.attachStdout),
    copy(proc.stderr, "stderr", exec.attachStderr),
  ]);
  try {
    exec.exitCode = await proc.exited;
  } catch {
    exec.exitCode = 126;
  }
  await copied;
  exec.running = false;
  exec.finishedAtMs = Date.now();
  conn?.end();
}
