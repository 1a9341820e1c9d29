// An opaque TCP pipe between an accepted socket and an upstream. Half-close travels through (a
// client that shuts down its write side still gets the rest of the answer), and an error on either
// side tears down both, so no socket is left half alive.
import { connect, type Socket } from "node:net";
import { pipeBorrowed } from "../http1/borrowed-reads";

export interface PipeOptions {
  host: string;
  port: number;
  /** An upstream already connected to host:port (tcp/connect.ts); default: connect now. */
  upstream?: Socket;
  /** Give up connecting after this long. Default 10000 ms. */
  connectTimeoutMs?: number;
  /** Bytes already read from the client (protocol detection) to send first. */
  head?: Buffer;
  /** Counts bytes each way when both sides have closed. */
  onBytes?: (fromClient: number, toClient: number) => void;
  /** Called once when both sides are closed. */
  onClose?: (error?: Error) => void;
}

/** Connects to host:port and pipes both ways. `client` must allow half-open (allowHalfOpen: true). */
export function pipeTcp(client: Socket, options: PipeOptions): Socket {
  const upstream =
    options.upstream ??
    connect({ host: options.host, port: options.port, allowHalfOpen: true, noDelay: true });
  let failure: Error | undefined;
  let closed = 0;
  const fail = (err: Error) => {
    failure ??= err;
    client.destroy();
    upstream.destroy();
  };
  const onClose = () => {
    if (++closed !== 2) return;
    options.onBytes?.(upstream.bytesWritten, client.bytesWritten);
    options.onClose?.(failure);
  };
  if (upstream.connecting) {
    upstream.setTimeout(options.connectTimeoutMs ?? 10_000, () =>
      fail(new Error(`connect to ${options.host}:${options.port} timed out`)),
    );
    upstream.once("connect", () => upstream.setTimeout(0));
  }
  upstream.on("error", fail);
  client.on("error", fail);
  upstream.on("close", onClose);
  client.on("close", onClose);
  if (options.head) {
    upstream.write(options.head);
    if (client.readableEnded) upstream.end(); // the client's half-close came with its only bytes
  }
  // Each side's end ends the other's write half: that is the half-close.
  pipeBorrowed(client, upstream);
  pipeBorrowed(upstream, client);
  return upstream;
}
