// The app the proxy benchmark calls: keep-alive HTTP/1.1, 1 KiB body.
// Usage: node upstream.mjs PORT [HOST] (HOST defaults to 0.0.0.0; bench/mesh-speed.ts passes 127.0.0.1)
import http from "node:http";

const body = Buffer.alloc(1024, "x");
http
  .createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
    res.end(body);
  })
  .listen(Number(process.argv[2] ?? 8080), process.argv[3] ?? "0.0.0.0");
