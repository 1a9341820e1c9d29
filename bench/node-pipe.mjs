// The least a Node.js process in the path costs, for bench/mesh-speed.ts: it copies bytes between
// each accepted connection and one it opens to the target (net.Socket pipe both ways, Nagle off as
// in the sidecar), and nothing else: no HTTP parsing, routing or telemetry.
// Usage: node bench/node-pipe.mjs PORT TARGET_PORT (both on 127.0.0.1).
import net from "node:net";

const [port, target] = process.argv.slice(2).map(Number);
if (!(port > 0 && target > 0)) {
  console.error("usage: node bench/node-pipe.mjs PORT TARGET_PORT");
  process.exit(2);
}
net
  .createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({ port: target, host: "127.0.0.1", noDelay: true });
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  })
  .listen(port, "127.0.0.1");
