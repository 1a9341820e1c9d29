// One published port: a userland TCP forwarder (as docker-proxy) that listens on the host and pipes
// each connection to the workload. Userland rather than DNAT because the workload's inbound traffic
// must reach its sidecar's capture like any other client's, and a listener gives a clear error
// (port in use) at publish time instead of a rule that silently loses to another process.
import { connect, createServer, type Server, type Socket } from "node:net";
import type { Logger } from "../engine/parts";
import { RuntimeError } from "../errors";

export interface ForwarderTarget {
  address: string;
  port: number;
}

export class TcpForwarder {
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  constructor(
    private readonly target: ForwarderTarget,
    private readonly logger: Logger,
  ) {}

  /** Listens on hostIp:hostPort (0: a free port); resolves to the bound port. PORT_IN_USE when taken. */
  listen(hostIp: string, hostPort: number): Promise<number> {
    // allowHalfOpen: a client that shuts down its write side still gets the rest of the answer.
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (c) => this.accept(c));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => {
        this.server = undefined;
        reject(listenError(err, hostIp, hostPort));
      });
      server.listen({ host: hostIp, port: hostPort, exclusive: true }, () => {
        server.on("error", (err) => this.logger.warn(`published port ${hostIp}:${hostPort}: ${err.message}`));
        const addr = server.address();
        resolve(typeof addr === "object" && addr ? addr.port : hostPort);
      });
    });
  }

  /** Stops listening and ends every open connection (both sides). */
  close(): Promise<void> {
    // A reset, not a FIN: a client must not mistake a port going away for a complete answer.
    for (const s of this.sockets) {
      if (s.connecting) s.destroy();
      else s.resetAndDestroy();
    }
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const upstream = connect({ host: this.target.address, port: this.target.port, allowHalfOpen: true });
    this.track(client);
    this.track(upstream);
    upstream.once("connect", () => {
      // pipe() gives backpressure (pause the reader while the writer's buffer is full) and, with
      // allowHalfOpen, half-close: the end of one side's input ends the other's output only.
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    const fail = (err: Error) => {
      if ((err as NodeJS.ErrnoException).code !== "ECONNRESET") {
        this.logger.warn(`published port -> ${this.target.address}:${this.target.port}: ${err.message}`);
      }
      // The client sees a reset, as it would from a refused or broken connection to the workload.
      client.resetAndDestroy();
      upstream.destroy();
    };
    client.on("error", fail);
    upstream.on("error", fail);
    // Once both directions are done, make sure neither socket lingers.
    let ended = 0;
    const done = () => {
      ended++;
      if (ended === 2) {
        client.destroySoon();
        upstream.destroySoon();
      }
    };
    client.once("end", done);
    upstream.once("end", done);
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.once("close", () => this.sockets.delete(s));
  }
}

function listenError(err: NodeJS.ErrnoException, hostIp: string, hostPort: number): RuntimeError {
  if (err.code === "EADDRINUSE") {
    return new RuntimeError(
      "PORT_IN_USE",
      `cannot publish ${hostIp}:${hostPort}: the port is already in use on the host; choose another host port (-p OTHER:PORT), or 0 to pick a free one, or stop what listens there (ss -ltnp 'sport = :${hostPort}')`,
    );
  }
  if (err.code === "EADDRNOTAVAIL") {
    return new RuntimeError(
      "INVALID_ARGUMENT",
      `cannot publish on ${hostIp}:${hostPort}: ${hostIp} is not an address of this host; use 127.0.0.1 or one of 'ip -4 addr'`,
    );
  }
  if (err.code === "EACCES") {
    return new RuntimeError(
      "INVALID_ARGUMENT",
      `cannot publish ${hostIp}:${hostPort}: permission denied (ports below 1024 need root)`,
    );
  }
  return new RuntimeError("INTERNAL", `cannot publish ${hostIp}:${hostPort}: ${err.message}`);
}
