// Response desync, searched for: the proxy keeps upstream connections and hands each to the next
// request, so an app whose answer is framed wrongly (a length that disagrees with the bytes, a
// doubled or contradicting length, a bad chunk size, bytes after the end, a bare LF) must never
// leave bytes on a pooled connection that the next client reads as its own answer (nor may an
// interim answer, an odd status line, a folded field or a 101 nobody asked for). A raw app
// answers each request with a generated response naming the request's token, some of them followed
// by a whole forged response naming no one's; clients run four at a time through one proxy, then
// through a pair. Every client gets its own token or an error, never another request's bytes or the
// forged answer; clean answers arrive whole. WEFT_FUZZ_SEED and WEFT_FUZZ_CASES explore further.
import { createServer, type Socket } from "node:net";
import test, { type ExecutionContext } from "ava";
import { fuzzRun, seededRandom as rng } from "../../../test/support/generated";
import { startPair } from "../testing/pair";
import { fakeRoute, listen, raw, startProxy } from "./test-kit";

const FORGED = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\ntok:FORGED;\n";

/** The app's answer to request `i`, and whether nothing in it is wrong. */
function answer(
  seed: number,
  i: number,
): { bytes: string; clean: boolean; unframed: boolean; thenClose: boolean } {
  const r = rng(seed * 7919 + i);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const body = `tok:${i};`;
  let clean = true;
  const eol = () => {
    if (r() >= 0.03) return "\r\n";
    clean = false;
    return "\n";
  };
  if (r() < 0.4)
    return {
      bytes: `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      clean,
      unframed: false,
      thenClose: false,
    };
  const shape = pick([
    "length+1",
    "length-1",
    "two lengths",
    "length and chunked",
    "chunked",
    "bad chunk",
    "chunk too short",
    "interim",
    "204 with body",
    "no framing",
    "101 unasked",
    "interims",
    "odd status",
    "folded header",
    "space before colon",
    "HTTP/1.0 keep-alive",
  ] as const);
  if (shape !== "chunked" && shape !== "interim" && shape !== "interims") clean = false;
  const status = `HTTP/1.1 ${shape === "204 with body" ? "204 No Content" : "200 OK"}${eol()}`;
  const chunked = (n: number) =>
    `Transfer-Encoding: chunked${eol()}${eol()}${n.toString(16)}${eol()}${body}\r\n0\r\n\r\n`;
  const length = (n: number) => `Content-Length: ${n}${eol()}`;
  const bytes = {
    "length+1": () => `${status}${length(body.length + 1)}${eol()}${body}`,
    "length-1": () => `${status}${length(body.length - 1)}${eol()}${body}`,
    "two lengths": () => `${status}${length(body.length)}${length(body.length + 3)}${eol()}${body}`,
    "length and chunked": () => `${status}${length(3)}${chunked(body.length)}`,
    chunked: () => `${status}${chunked(body.length)}`,
    "bad chunk": () =>
      `${status}${chunked(body.length).replace(/^(Transfer-Encoding: chunked\r?\n\r?\n)[0-9a-f]+/, `$1${pick(["zz", "-1", " 5", "fffffffffffffffff"])}`)}`,
    "chunk too short": () => `${status}${chunked(body.length - 2)}`,
    interim: () =>
      `HTTP/1.1 ${pick(["100 Continue", "103 Early Hints"])}\r\n\r\n${status}${length(body.length)}${eol()}${body}`,
    "204 with body": () => `${status}${length(body.length)}${eol()}${body}`,
    "no framing": () => `${status}X-Any: 1${eol()}${eol()}${body}`,
    // A switch the request never asked for (no Upgrade in it): after it, the connection is not HTTP.
    interims: () =>
      `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${status}${length(body.length)}${eol()}${body}`,
    "odd status": () =>
      `HTTP/1.1 ${pick(["099 Low", "1000 High", "20 Short", "abc Word", "600 Beyond"])}\r\n${length(body.length)}${eol()}${body}`,
    "folded header": () => `${status}X-A: 1\r\n folded\r\n${length(body.length)}${eol()}${body}`,
    "space before colon": () => `${status}Content-Length : ${body.length}\r\n${eol()}${body}`,
    "HTTP/1.0 keep-alive": () =>
      `HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n${length(body.length)}${eol()}${body}`,
    "101 unasked": () =>
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n${body}`,
  }[shape]();
  // Forged bytes after the answer: what a desynced pool would hand the next request.
  // An answer without framing runs to the connection's end, so what follows it is its own body.
  const unframed = shape === "no framing";
  // An app whose answer runs to the connection's end, or falls short of its length, then closes:
  // the response timeout covers only the wait for a head, and a body may stream for as long as it
  // likes.
  const thenClose = unframed || shape === "length+1" || shape === "101 unasked";
  if (r() < 0.5) return { bytes: bytes + FORGED, clean: false, unframed, thenClose };
  return { bytes, clean, unframed, thenClose };
}

/** Reads request heads (GET, no body) off a connection and writes each one's generated answer. */
function serve(seed: number, s: Socket): void {
  let buf = "";
  s.on("data", (d: Buffer) => {
    buf += d.toString("latin1");
    for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4);
      const i = Number(/^GET \/t\/(\d+) /.exec(head)?.[1] ?? -1);
      const a = answer(seed, i);
      s.write(a.bytes);
      if (a.thenClose) return void s.end();
    }
  });
  s.on("error", () => undefined);
}

/** Runs the generated answers through whatever `through` puts in front of the raw app. */
async function check(
  t: ExecutionContext,
  through: (appPort: number) => Promise<number>,
  defaultCases: number,
): Promise<void> {
  const { seed, cases } = fuzzRun(defaultCases);
  const sockets = new Set<Socket>();
  const app = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    serve(seed, s);
  });
  const appPort = await listen(app);
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    app.close();
  });
  const port = await through(appPort);
  let clean = 0;
  let errors = 0;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < cases; i = next++) {
      const text = await raw(port, `GET /t/${i} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      const tokens = [...text.matchAll(/tok:([^;]*);/g)].map((m) => m[1]);
      const { bytes, clean: isClean, unframed } = answer(seed, i);
      const where = `request ${i} (WEFT_FUZZ_SEED=${seed}), the app answered ${JSON.stringify(bytes)}; the client got ${JSON.stringify(text)}`;
      t.true(
        tokens.every((x) => x === String(i) || (unframed && x === "FORGED")),
        `a client read bytes that were not its answer: ${where}`,
      );
      if (isClean) {
        clean++;
        t.regex(
          text,
          // A 1xx goes on to the client: RFC 9110 15.2 has proxies forward them, expected or not.
          /^(HTTP\/1\.1 1\d\d [^\r]*\r\n(?:[^\r]+\r\n)*\r\n)*HTTP\/1\.1 200 [\s\S]*tok:\d+;(\r\n0\r\n\r\n)?$/,
          `a well-formed answer did not arrive whole: ${where}`,
        );
        t.deepEqual(tokens, [String(i)], where);
      } else if (!/^HTTP\/1\.1 2/.test(text)) errors++;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  t.log(`${cases} requests, ${clean} clean answers; ${errors} of the rest came back as an error`);
  t.true(clean > cases / 4, "the generator still makes clean answers");
}

test("generated malformed answers on pooled connections: each client gets its own answer or an error, never another's", async (t) => {
  await check(t, async (appPort) => (await startProxy(t, fakeRoute([appPort]))).port, 300);
});

test("generated malformed answers behind a sidecar pair: no client reads another's answer across both pools", async (t) => {
  await check(
    t,
    async (appPort) => {
      const p = await startPair({ appPort, protocol: "http" });
      t.teardown(() => p.close());
      return p.port;
    },
    150,
  );
});
