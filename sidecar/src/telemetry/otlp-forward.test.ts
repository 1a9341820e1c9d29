import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { startOtlpForwarders } from "./otlp-forward";

/** A unix-socket server that answers every connection with "PATH:" and an echo of what it got. */
async function echoAt(path: string): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    const chunks: Buffer[] = [];
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("end", () => s.end(`${path}:${Buffer.concat(chunks).toString()}`));
  });
  await new Promise<void>((r) => server.listen(path, r));
  return server;
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, allowHalfOpen: true }, () => s.end(text));
    const got: Buffer[] = [];
    s.on("data", (b: Buffer) => got.push(b));
    s.on("end", () => resolve(Buffer.concat(got).toString()));
    s.on("error", reject);
  });
}

test("OTLP/gRPC goes to the control plane's socket and OTLP/HTTP to the one next to it, bytes untouched", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-otlp-fwd-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const grpcSocket = join(dir, "cp.sock");
  const httpSocket = join(dir, "otlp-http.sock");
  const servers = [await echoAt(grpcSocket), await echoAt(httpSocket)];
  t.teardown(() => {
    for (const s of servers) s.close();
  });
  const fwd = await startOtlpForwarders({
    controlPlane: `unix://${grpcSocket}`,
    grpcPort: 0,
    httpPort: 0,
    appPorts: new Set(),
    log: () => {},
  });
  t.teardown(() => fwd.close());
  t.is(fwd.ports.length, 2);
  t.is(await roundTrip(fwd.ports[0]!, "PRI * HTTP/2.0"), `${grpcSocket}:PRI * HTTP/2.0`);
  t.is(await roundTrip(fwd.ports[1]!, "POST /v1/traces"), `${httpSocket}:POST /v1/traces`);
});

test("a port the workload serves itself (its own collector) is left to it", async (t) => {
  // Both forwarders are asked for port 0 here (tests never take the real 4317/4318), and the
  // workload declares that port: neither binds.
  const fwd = await startOtlpForwarders({
    controlPlane: "unix:///nonexistent/cp.sock",
    grpcPort: 0,
    httpPort: 0,
    appPorts: new Map([[0, "http"]]),
    log: () => {},
  });
  t.teardown(() => fwd.close());
  t.deepEqual(fwd.ports, []);
});
