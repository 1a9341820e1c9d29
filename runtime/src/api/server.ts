// The Engine API on a unix socket: mode 0660 (root and the socket's group), parent dir 0755. A socket
// file left by a dead daemon is replaced; one that another daemon answers on is an error.
import { chmodSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createConnection } from "node:net";
import { dirname } from "node:path";
import type { Duplex } from "node:stream";
import type { Logger } from "../engine/parts";
import { RuntimeError } from "../errors";
import type { DockerEngine } from "./docker/engine";
import { routeDocker, routeDockerUpgrade } from "./docker/router";
import { sendError } from "./http";
import { type EngineApi, route } from "./routes";

export interface ApiServer {
  socketPath: string;
  close(): Promise<void>;
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = createConnection(socketPath);
    conn.once("connect", () => {
      conn.destroy();
      resolve(true);
    });
    conn.once("error", () => resolve(false));
  });
}

/** True for the Weft API (/weft/v1/...); everything else on the socket is the Docker Engine API. */
function isWeftPath(url: string | undefined): boolean {
  return (url ?? "/").startsWith("/weft/");
}

export async function startApiServer(
  engine: EngineApi & DockerEngine,
  socketPath: string,
  logger: Logger,
): Promise<ApiServer> {
  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
  if (existsSync(socketPath)) {
    if (await answers(socketPath)) {
      throw new RuntimeError(
        "SOCKET_IN_USE",
        `another weft daemon is listening on ${socketPath}; stop it or give this one another --socket`,
      );
    }
    unlinkSync(socketPath);
  }
  const server: Server = createServer((req, res) => {
    const handled = isWeftPath(req.url) ? route(engine, req, res) : routeDocker(engine, req, res);
    handled.catch((err) => {
      const status = sendError(res, err);
      if (status >= 500) logger.error(`${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
    });
  });
  // docker attach / exec send `Upgrade: tcp` and then use the raw socket both ways.
  // Upgraded sockets are no longer the HTTP server's: close() ends them itself.
  const hijacked = new Set<Duplex>();
  server.on("upgrade", (req, socket: Duplex, head: Buffer) => {
    hijacked.add(socket);
    socket.once("close", () => hijacked.delete(socket));
    // A client that vanishes must not take the daemon down with an unhandled EPIPE.
    socket.on("error", () => socket.destroy());
    if (isWeftPath(req.url)) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    routeDockerUpgrade(engine, req, socket, head).catch((err: Error) => {
      logger.error(`${req.method} ${req.url}: ${err.stack ?? err}`);
      socket.destroy();
    });
  });
  // Requests like `stop -t 600` or an image import can take long; the client decides when to give up.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o660);
  return {
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of hijacked) socket.destroy();
        if (existsSync(socketPath)) unlinkSync(socketPath);
      }),
  };
}
