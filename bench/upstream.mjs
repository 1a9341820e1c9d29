// The app the proxy benchmark calls: keep-alive HTTP/1.1, 1 KiB body. Usage: node upstream.mjs PORT
import http from "node:http";

const body = Buffer.alloc(1024, "x");
http
  .createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
    res.end(body);
  })
  .listen(Number(process.argv[2] ?? 8080), "0.0.0.0");
