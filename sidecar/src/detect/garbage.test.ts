// Whatever a client sends first, searched for: generated openings (HTTP/1.1 and h2c prefaces cut at
// any byte, method-like words, binary, TLS-like records, an h2 preface followed by noise), sent in
// pieces through a sidecar pair on an "auto" port, then ended, reset or left open (the test drops
// those after 400 ms; the pair's own timeouts are longer). The pair must never fall over (this
// process hosts both sidecars: an exception would fail the test) and must still carry a good
// request afterwards.
// WEFT_FUZZ_SEED and WEFT_FUZZ_CASES explore further.
import http from "node:http";
import { connect } from "node:net";
import test from "ava";
import { fuzzRun, seededRandom as rng } from "../../../test/support/generated";
import { startPair } from "../testing/pair";

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const OPENINGS = [
  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  PREFACE,
  "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
  "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", // a TLS ClientHello's start
  "SSH-2.0-OpenSSH_9.2\r\n",
  "\x00\x00\x00\x00\x00",
  "CONNECT a:443 HTTP/1.1\r\n\r\n",
  "G",
  "get / http/1.1\r\n\r\n",
];

function opening(r: () => number): Buffer {
  const base = Buffer.from(OPENINGS[Math.floor(r() * OPENINGS.length)] as string, "latin1");
  const cut = r() < 0.5 ? base.subarray(0, Math.floor(r() * (base.length + 1))) : base;
  const noise = Buffer.alloc(Math.floor(r() * 64));
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(r() * 256);
  return Buffer.concat([cut, noise]);
}

/** Sends the bytes in two pieces, then ends, resets or leaves the connection; resolves once closed. */
function poke(port: number, bytes: Buffer, r: () => number): Promise<void> {
  return new Promise((resolve) => {
    const c = connect(port, "127.0.0.1");
    const how = Math.floor(r() * 3);
    const half = Math.floor(r() * bytes.length);
    // A client that says nothing more is closed by the pair's idle or detection timeouts; the test
    // does not wait for those.
    const timer = setTimeout(() => c.destroy(), 400);
    c.on("connect", () => {
      c.write(bytes.subarray(0, half));
      setTimeout(
        () => {
          if (c.destroyed) return;
          c.write(bytes.subarray(half));
          if (how === 0) c.end();
          else if (how === 1) c.resetAndDestroy();
        },
        Math.floor(r() * 20),
      );
    });
    c.on("data", () => undefined);
    c.on("error", () => undefined);
    c.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

test("generated first bytes through a pair on an auto port: it stays up and still serves", async (t) => {
  const { seed, cases } = fuzzRun(200);
  const app = http.createServer((_req, res) => res.end("fine"));
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => {
    app.closeAllConnections();
    app.close();
  });
  const port = (app.address() as { port: number }).port;
  const pair = await startPair({ appPort: port, protocol: "auto", options: { detectTimeoutMs: 100 } });
  t.teardown(() => pair.close());
  for (let i = 0; i < cases; i += 8) {
    // Eight at a time, as clients come.
    await Promise.all(
      Array.from({ length: Math.min(8, cases - i) }, (_, k) => {
        const r = rng(seed + i + k);
        return poke(pair.port, opening(r), r);
      }),
    );
  }
  const res = await fetch(`http://127.0.0.1:${pair.port}/`, { signal: AbortSignal.timeout(5000) });
  t.is(res.status, 200);
  t.is(await res.text(), "fine");
});
