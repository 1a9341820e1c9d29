// The OTLP/HTTP receiver (default 127.0.0.1:4318): POST /v1/traces and /v1/logs, protobuf or JSON,
// gzip accepted. Bad input gets a 4xx with the reason (as google.rpc.Status in the request's
// encoding); a store failure gets 503 so exporters retry; nothing already stored is touched.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { gunzipSync, inflateSync } from "node:zlib";
import { TelemetryError } from "./errors";
import { type IngestCounters, type IngestResult, ingestLogs, ingestSpans } from "./ingest";
import { decodeLogsJson, decodeTraceJson } from "./otlp-json";
import { decodeLogsRequest, decodeTraceRequest } from "./otlp-protobuf";
import { exportResponse, exportResponseJson, statusProto } from "./otlp-responses";
import type { TelemetryStore } from "./telemetry-store";
import { LIMITS } from "./types";

type Encoding = "protobuf" | "json";

class ReceiverError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function encodingOf(req: IncomingMessage): Encoding {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/x-protobuf" || type === "application/protobuf") return "protobuf";
  if (type === "application/json") return "json";
  throw new ReceiverError(
    415,
    `content type "${type || "(none)"}" is not OTLP; send application/x-protobuf or application/json`,
  );
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > LIMITS.maxRequestBytes) {
    throw new ReceiverError(
      413,
      `the body is ${declared} bytes; at most ${LIMITS.maxRequestBytes} are accepted, send smaller batches`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > LIMITS.maxRequestBytes) {
      throw new ReceiverError(413, `the body is over ${LIMITS.maxRequestBytes} bytes; send smaller batches`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function decompress(req: IncomingMessage, raw: Buffer): Buffer {
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding === "identity" || encoding === "") return raw;
  if (encoding !== "gzip" && encoding !== "deflate") {
    throw new ReceiverError(415, `content encoding "${encoding}" is not supported; use gzip or none`);
  }
  try {
    const opts = { maxOutputLength: LIMITS.maxDecodedBytes };
    return encoding === "gzip" ? gunzipSync(raw, opts) : inflateSync(raw, opts);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ReceiverError(
        413,
        `the body inflates to over ${LIMITS.maxDecodedBytes} bytes; send smaller batches`,
      );
    }
    throw new ReceiverError(400, `the ${encoding} body cannot be decompressed: ${(err as Error).message}`);
  }
}

export interface OtlpHttpOptions {
  store: TelemetryStore;
  counters: IngestCounters;
  log: (message: string) => void;
}

export function createOtlpHttpServer(o: OtlpHttpOptions): Server {
  async function handle(req: IncomingMessage, res: ServerResponse, enc: { value: Encoding }): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    const signal = path === "/v1/traces" ? "traces" : path === "/v1/logs" ? "logs" : undefined;
    if (!signal) throw new ReceiverError(404, `no OTLP endpoint at ${path}; use /v1/traces or /v1/logs`);
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      throw new ReceiverError(405, `${req.method} is not supported on ${path}; use POST`);
    }
    enc.value = encodingOf(req);
    const body = decompress(req, await readRaw(req));
    let result: IngestResult;
    const now = BigInt(Date.now()) * 1_000_000n;
    if (signal === "traces") {
      const decoded =
        enc.value === "json" ? decodeTraceJson(body.toString("utf8")) : decodeTraceRequest(body);
      result = ingestSpans(o.store, o.counters, decoded);
    } else {
      const decoded =
        enc.value === "json" ? decodeLogsJson(body.toString("utf8"), now) : decodeLogsRequest(body, now);
      result = ingestLogs(o.store, o.counters, decoded);
    }
    if (enc.value === "json") {
      const text = exportResponseJson(
        signal === "traces" ? "spans" : "logRecords",
        result.rejected,
        result.message,
      );
      res.writeHead(200, { "Content-Type": "application/json" }).end(text);
    } else {
      res
        .writeHead(200, { "Content-Type": "application/x-protobuf" })
        .end(exportResponse(result.rejected, result.message));
    }
  }

  const server = createServer((req, res) => {
    const enc: { value: Encoding } = { value: "json" };
    handle(req, res, enc).catch((err: unknown) => {
      let status = 500;
      const message = (err as Error).message;
      if (err instanceof ReceiverError) status = err.status;
      else if (err instanceof TelemetryError && err.code === "BAD_OTLP") status = 400;
      else if (err instanceof TelemetryError && err.code === "STORE_FAILED") status = 503;
      else o.log(`OTLP/HTTP ${req.method} ${req.url} failed: ${(err as Error).stack}`);
      if (status >= 400 && status < 500) o.counters.badRequests++;
      // A refused body may still be arriving; drain it so the client reads our answer.
      req.resume();
      if (res.headersSent) return void res.destroy();
      // google.rpc.Status codes: INVALID_ARGUMENT for the client's mistakes, UNAVAILABLE to retry.
      const code = status === 503 ? 14 : status === 413 ? 8 : 3;
      if (enc.value === "protobuf") {
        res.writeHead(status, { "Content-Type": "application/x-protobuf" }).end(statusProto(code, message));
      } else {
        res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify({ code, message }));
      }
    });
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });
  return server;
}
