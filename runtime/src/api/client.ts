// The CLI's side of the Engine API: one request over the daemon's unix socket, errors turned into
// messages that say what to do.
import { request } from "node:http";
import { RuntimeError } from "../errors";

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

  private raw(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path,
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
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT" || err.code === "ECONNREFUSED") {
          reject(
            new RuntimeError(
              "DAEMON_UNREACHABLE",
              `cannot reach the weft daemon at ${this.socketPath}; start it with 'weft daemon'`,
            ),
          );
        } else {
          reject(err);
        }
      });
      req.end(payload);
    });
  }
}
