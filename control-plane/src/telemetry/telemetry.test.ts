import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { startTelemetry } from "./telemetry";

function hold(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as { port: number }).port }),
    );
  });
}

test("a taken OTLP port fails naming the flag, or with onPortBusy=skip runs without that receiver", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-tel-port-"));
  const { server, port } = await hold();
  t.teardown(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await t.throwsAsync(startTelemetry({ dbPath: join(dir, "a.db"), otlpHttpPort: port, log: () => {} }), {
    message: new RegExp(`OTLP HTTP port ${port} on 127.0.0.1 is already in use.*--otlp-http-port`),
  });
  const logs: string[] = [];
  const tel = await startTelemetry({
    dbPath: join(dir, "b.db"),
    otlpHttpPort: port,
    otlpGrpcPort: 0,
    onPortBusy: "skip",
    log: (m) => logs.push(m),
  });
  t.teardown(() => tel.close());
  t.is(tel.otlpHttpAddress, "");
  t.regex(tel.otlpGrpcAddress, /^127\.0\.0\.1:\d+$/);
  t.regex(logs.join("\n"), /running without this OTLP receiver/);
});
