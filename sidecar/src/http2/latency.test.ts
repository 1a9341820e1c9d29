// What an HTTP/2 attempt tells the load balancer about its endpoint's latency (outcome.latencyMs).
import http2 from "node:http2";
import { createServer } from "node:net";
import test from "ava";
import { fakeRoute, listen, slowToReadyDial } from "../http1/test-kit";
import { Metrics } from "../telemetry/metrics";
import { H2Proxy } from "./proxy";

test("an HTTP/2 attempt's latency leaves out the setup of a new upstream session", async (t) => {
  // As over HTTP/1.1: a session slow to become ready (a TLS handshake with the endpoint's sidecar)
  // is no sign of a slow endpoint, and counted in it made the balancer shun endpoints it had not
  // used for a while.
  const SETUP_MS = 300;
  const upstream = http2.createServer((_req, res) => res.end("fine"));
  const upstreamPort = await listen(upstream as never);
  const proxy = new H2Proxy({
    flow: { direction: "outbound", via: "1.1 test", metrics: new Metrics(), hooks: {}, draining: false },
    dial: slowToReadyDial(SETUP_MS),
  });
  const route = fakeRoute([upstreamPort]);
  const front = createServer((s) => proxy.handle(s, route));
  const port = await listen(front);
  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.teardown(() => {
    client.destroy();
    proxy.close();
    front.close();
    upstream.close();
  });
  const started = performance.now();
  const status = await new Promise<number>((resolve, reject) => {
    const req = client.request({ ":path": "/", ":authority": "web" });
    req.on("response", (h) => resolve(Number(h[":status"])));
    req.on("error", reject);
    req.resume();
    req.end();
  });
  t.is(status, 200);
  t.true(performance.now() - started >= SETUP_MS, "the request waited for the session");
  const outcome = route.ended[0]?.outcome;
  t.is(outcome?.kind, "response");
  t.true(
    outcome?.kind === "response" && outcome.latencyMs < SETUP_MS / 2,
    `latency ${outcome?.kind === "response" ? outcome.latencyMs : "-"} ms counts the setup`,
  );
});
