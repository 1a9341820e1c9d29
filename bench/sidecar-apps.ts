// The apps bench/sidecar.ts calls, in one process: HTTP/1.1 and h2c answering 1 KiB, and a gRPC
// bidi echo. Prints {"h1":PORT,"h2":PORT,"grpc":PORT} once listening on 127.0.0.1.
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { rawMethod } from "../sidecar/src/testing/raw-method";

const body = Buffer.alloc(1024, "x");
const listen = (s: http.Server | http2.Http2Server) =>
  new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));
const h1 = await listen(
  http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
    res.end(body);
  }),
);
const h2server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
h2server.on("stream", (stream) => {
  // A stream reset when the bench stops a sidecar pair mid-run must not take the apps down.
  stream.on("error", () => {});
  stream.respond({ ":status": 200, "content-type": "text/plain", "content-length": body.length });
  stream.end(body);
});
const h2 = await listen(h2server);
const server = new grpc.Server();
server.addService(
  {
    both: rawMethod("/b.Echo/Both", true, true),
  } as unknown as grpc.ServiceDefinition,
  {
    both(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
      call.on("data", (d: Buffer) => call.write(d));
      call.on("end", () => call.end());
      call.on("error", () => {});
    },
  },
);
const grpcPort = await new Promise<number>((resolve, reject) =>
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
    err ? reject(err) : resolve(port),
  ),
);
console.log(JSON.stringify({ h1, h2, grpc: grpcPort }));
