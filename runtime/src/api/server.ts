// The Engine API on a unix socket: mode 0660 (root and the socket's group), parent dir 0755. A socket
// file left by a dead daemon is replaced; one that another daemon answers on is an error.
import { chmodSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createConnection } from "node:net";
import { dirname } from "node:path";
import type { Logger } from "../engine/parts";
import { RuntimeError } from "../errors";
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

export async function startApiServer(
  engine: EngineApi,
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
    route(engine, req, res).catch((err) => {
      const status = sendError(res, err);
      if (status >= 500) logger.error(`${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
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
        if (existsSync(socketPath)) unlinkSync(socketPath);
      }),
  };
}
