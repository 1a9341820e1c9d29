// A connection whose handling fails in a way nothing expected is closed and logged, alone: the
// sidecar goes on serving the rest (an unhandled rejection would have ended the process).
import { connect, createServer, type Socket } from "node:net";
import test from "ava";
import type { ListenerDeps } from "./routing";
import { serveConnection } from "./serve";

test("a connection whose proxy throws is closed and logged; serveConnection does not reject", async (t) => {
  const logs: string[] = [];
  let calls = 0;
  const deps = {
    headerTimeoutMs: 2000,
    detectTimeoutMs: 100,
    log: (m: string) => logs.push(m),
    outboundHttp: {
      handle: () => {
        calls++;
        throw new Error("a bug in the proxy");
      },
    },
  } as unknown as ListenerDeps;
  const served: Array<Promise<void>> = [];
  const server = createServer((socket: Socket) => {
    served.push(
      serveConnection(deps, socket, {
        direction: "outbound",
        protocol: "http",
        route: { service: "web", plan: () => ({ status: 503, message: "none\n" }) },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  for (let i = 0; i < 2; i++) {
    const closed = await new Promise<boolean>((resolve) => {
      const c = connect(port, "127.0.0.1", () => c.write("GET / HTTP/1.1\r\nHost: web\r\n\r\n"));
      c.on("error", () => undefined);
      c.on("close", () => resolve(true));
      setTimeout(() => resolve(false), 3000);
    });
    t.true(closed, "the client's connection was closed");
  }
  await Promise.all(served); // resolved, not rejected
  t.is(calls, 2, "the second connection was served as the first: the sidecar went on");
  t.regex(
    logs[0] ?? "",
    /outbound connection for web from 127\.0\.0\.1 failed unexpectedly, closed: Error: a bug in the proxy/,
  );
});
