// Time to a server-first app's greeting (MySQL, SMTP, SSH speak before the client does), for a plain
// client reaching a PERMISSIVE service's sidecar on an undeclared ("auto") port, next to the app
// reached directly: the sidecar waits for the client's first bytes before it knows whether mutual
// TLS or which protocol comes, and a client of such a protocol sends nothing until greeted.
// Usage: node --import tsx bench/server-first.ts [CONNECTIONS=20]
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlPlane } from "../control-plane/src/index";
import { startPair } from "../sidecar/src/testing/pair";
import { fmtMs, median } from "./stats";

const connections = Number(process.argv[2] ?? 20);

const app = createServer((s) => s.end("220 greetings\r\n"));
await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
const appPort = (app.address() as AddressInfo).port;
const dataDir = mkdtempSync(join(tmpdir(), "weft-bench-greet-"));
const cp = await startControlPlane({ dataDir, grpcPort: 0, httpPort: 0, grpcSocket: "", log: () => {} });
const pair = await startPair({ appPort, protocol: "auto", mtls: { certificateAuthority: cp.grpcAddress } });

/** Milliseconds from connect to the greeting's first byte. */
function greeting(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = connect({ host: "127.0.0.1", port });
    c.once("data", () => {
      resolve(performance.now() - t0);
      c.destroy();
    });
    c.once("error", reject);
  });
}

const direct: number[] = [];
const sidecar: number[] = [];
for (let i = 0; i < connections; i++) {
  direct.push(await greeting(appPort));
  sidecar.push(await greeting(pair.server.ports.inbound));
}
const d = median(direct);
const s = median(sidecar);
console.log(`server-first greeting, median of ${connections} connections (detect timeout 100 ms):`);
console.log(`  direct to the app:               ${fmtMs(d)}`);
console.log(`  through the PERMISSIVE sidecar:  ${fmtMs(s)}  (+${fmtMs(s - d)})`);
await pair.close();
await cp.close();
app.close();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
