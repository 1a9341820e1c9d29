// The CLI's side of the Engine API: one request over the daemon's unix socket, errors turned into
// messages that say what to do.
import { type IncomingMessage, request } from "node:http";
import type { Readable } from "node:stream";
import { RuntimeError } from "../errors";

/** Every Weft API path starts with this (routes.ts strips it); the rest of the socket is Docker's API. */
export const WEFT_API_PREFIX = "/weft/v1";

export const DEFAULT_HOST = "unix:///run/weft/weft.sock";

/** The socket path from --host, WEFT_HOST or the default; only unix:// hosts are supported. */
export function resolveHost(flag: string | undefined, env = process.env): string {
  const host = flag ?? env.WEFT_HOST ?? DEFAULT_HOST;
  if (host.startsWith("unix://")) return host.slice("unix://".length);
  if (host.startsWith("/")) return host;
  throw new RuntimeError(
    "INVALID_ARGUMENT",
    `--host must look like unix:///run/weft/weft.sock, got "${host}"`,
  );
}

export interface ApiResponse {
  status: number;
  body: string;
}

export class EngineClient {
  constructor(readonly socketPath: string) {}

  /** Sends a request; a non-2xx answer throws with the daemon's message. */
  async call(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const res = await this.raw(method, path, body);
    if (res.status >= 200 && res.status < 300) return res;
    let message = res.body;
    try {
      message = (JSON.parse(res.body) as { message?: string }).message ?? res.body;
    } catch {
      // Not JSON: use the text as it is.
    }
    throw Object.assign(new Error(message), { status: res.status });
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return JSON.parse((await this.call(method, path, body)).body) as T;
  }

  /** For streams (logs -f, events): the response as it arrives; a non-2xx answer throws. */
  async stream(method: string, path: string): Promise<IncomingMessage> {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, method, path: EngineClient.apiPath(path) }, resolve);
      req.on("error", (err: NodeJS.ErrnoException) => reject(this.unreachable(err)));
      req.end();
    });
    return this.checked(res);
  }

  /** A request whose body streams from `body` while the response streams back (interactive exec). */
  async duplex(method: string, path: string, body: Readable | undefined): Promise<IncomingMessage> {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path: EngineClient.apiPath(path),
          headers: { "Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked" },
        },
        resolve,
      );
      req.on("error", (err: NodeJS.ErrnoException) => reject(this.unreachable(err)));
      req.flushHeaders();
      if (body) {
        body.pipe(req);
      } else {
        req.end();
      }
    });
    return this.checked(res);
  }

  private async checked(res: IncomingMessage): Promise<IncomingMessage> {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // Not JSON: use the text as it is.
    }
    throw Object.assign(new Error(message), { status });
  }

  private unreachable(err: NodeJS.ErrnoException): Error {
    if (err.code === "ENOENT" || err.code === "ECONNREFUSED") {
      return new RuntimeError(
        "DAEMON_UNREACHABLE",
        `cannot reach the weft daemon at ${this.socketPath}; start it with 'weft daemon'`,
      );
    }
    return err;
  }

  /** A Weft API path ("/containers/json") with its /weft/v1 prefix; a path already under /weft/ is kept. */
  static apiPath(path: string): string {
    return path.startsWith("/weft/") ? path : `${WEFT_API_PREFIX}${path}`;
  }

  private raw(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path: EngineClient.apiPath(path),
          headers: payload
            ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) }
            : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", (err: NodeJS.ErrnoException) => reject(this.unreachable(err)));
      req.end(payload);
    });
  }
}
