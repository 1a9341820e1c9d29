// Input to a running app through its monitor: conmon's attach socket (BUNDLE/attach, made with
// --full-attach) is SOCK_SEQPACKET, which Node's net module cannot open, so socat (Debian package)
// bridges a pipe to it. socat rather than a native addon: no compile step, a tool every distribution
// ships, and a pipe keeps Node's stream back-pressure. Output is not read from here: the log follow
// already carries it (once), and the socket's 1-byte stream prefixes would not survive a byte pipe.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { Writable } from "node:stream";

export interface AttachStdinOptions {
  /** The container's bundle: conmon's attach socket is BUNDLE/attach. */
  bundle: string;
  /** Resolves true once the monitor runs (its socket exists), false when the app will not run. */
  ready: () => Promise<boolean>;
  /** Default "socat". */
  binary?: string;
  /** Told once when input cannot be delivered (socat missing, socket refused). */
  onError?: (message: string) => void;
}

/** Whether socat is on PATH: without it the engine does not offer input to apps (-i is refused). */
export function socatAvailable(path = process.env.PATH ?? ""): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir || ".", "socat"), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * A Writable whose bytes reach the app's stdin. Nothing connects until the first write or end(), so an
 * attach that never sends input leaves the app's stdin alone. end() half-closes the connection: conmon
 * then closes the app's stdin unless it was started with --leave-stdin-open (-i without stdin-once, or -t).
 * destroy() drops the connection (for a stdin-once app that too closes its stdin, as Docker does).
 */
export function openAttachStdin(o: AttachStdinOptions): Writable {
  let child: ChildProcess | undefined;
  let connecting: Promise<ChildProcess | undefined> | undefined;
  let failed = false;
  let ended = false;
  const fail = (message: string) => {
    if (failed) return;
    failed = true;
    o.onError?.(message);
  };
  const connect = (): Promise<ChildProcess | undefined> => {
    connecting ??= (async () => {
      if (!(await o.ready())) return undefined;
      // Relative to the bundle: a socket path is limited to 107 bytes, a state dir is not.
      // -b: conmon's packets are up to 8193 bytes and a shorter read would cut them.
      // -t 2: after our EOF, how long socat keeps the connection for the other direction.
      const c = spawn(
        o.binary ?? "socat",
        ["-b", "65536", "-t", "2", "STDIO", "UNIX-CONNECT:attach,type=5"],
        {
          cwd: o.bundle,
          stdio: ["pipe", "ignore", "pipe"],
        },
      );
      let stderr = "";
      c.stderr?.on("data", (b: Buffer) => {
        stderr += b.toString();
      });
      c.once("error", (err: NodeJS.ErrnoException) =>
        fail(
          err.code === "ENOENT"
            ? "socat is not installed; install the socat package to send input to containers"
            : `cannot start socat: ${err.message}`,
        ),
      );
      c.once("exit", (code) => {
        if (code !== 0 && code !== null) fail(`cannot reach the container's stdin: ${stderr.trim()}`);
      });
      c.stdin?.on("error", () => undefined);
      child = c;
      return c;
    })();
    return connecting;
  };
  return new Writable({
    write(chunk: Buffer, _enc, callback) {
      connect().then(
        (c) => {
          if (!c?.stdin || c.stdin.destroyed) return callback();
          c.stdin.write(chunk, () => callback());
        },
        () => callback(),
      );
    },
    final(callback) {
      ended = true;
      connect().then(
        (c) => {
          c?.stdin?.end();
          callback();
        },
        () => callback(),
      );
    },
    destroy(_err, callback) {
      // After end(), socat forwards what is left and exits by itself; killing it could drop input.
      if (ended) return callback(null);
      // A connection still being made is dropped as soon as it is up.
      if (child) child.kill("SIGTERM");
      else void connecting?.then((c) => c?.kill("SIGTERM"));
      callback(null);
    },
  });
}
