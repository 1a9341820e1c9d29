// Generated HTTP/2 heads through a real sidecar pair, both ways: requests a client writes by hand
// (pseudo-headers missing, doubled or odd; connection-specific fields; control characters; long
// values) and answers an upstream writes by hand (bad statuses, forbidden fields, trailers with
// pseudo-headers, a Content-Length the body breaks, a body cut by RST_STREAM). node:http2 reads
// many heads it will not send on, and a throw out of one of its event handlers ends the sidecar:
// ava fails the test on any uncaught exception. Besides, for every case:
// - the client's stream ends (a response, a reset or GOAWAY) and never hangs;
// - a status the client gets is one HTTP/2 can carry (200-599), and no connection-specific field
//   reaches the app or the client;
// - the healthy endpoint is never counted as failing to connect (outlier detection would eject it);
// and after all the cases a plain request still gets through.
// WEFT_FUZZ_SEED and WEFT_FUZZ_CASES replay a case or run more.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import test from "ava";
import { fuzzRun, replay, seededRandom } from "../../../test/support/generated";
import { startPair } from "../testing/pair";
import { type Fields, type RawReply, rawH2Request, rawH2Server } from "../testing/raw-h2";

const { seed, cases } = fuzzRun(120);

/** What may never reach the next hop over HTTP/2 (RFC 9113 §8.2.2; TE only as "trailers"). */
function connectionSpecific([name, value]: [string, string]): boolean {
  return (
    [
      "connection",
      "keep-alive",
      "proxy-connection",
      "transfer-encoding",
      "upgrade",
      "http2-settings",
    ].includes(name) ||
    (name === "te" && value !== "trailers")
  );
}

const NAMES = [
  "x-a",
  "user-agent",
  "content-type",
  "cookie",
  "accept",
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
  "te",
  "host",
  "content-length",
  "traceparent",
  "grpc-timeout",
  "x-forwarded-for",
  "via",
  "x-request-id",
  "location",
  "set-cookie",
  "trailer",
  "X-Upper",
  "a b",
  "",
  ":status",
  ":path",
  ":foo",
];
const VALUES = [
  "",
  "trailers",
  "gzip",
  "close",
  "a\x7fb",
  "a\x01b",
  "a\tb",
  " lead",
  "trail ",
  "\xfc",
  "x".repeat(5000),
  "chunked",
  "5",
  "-1",
  "h2c",
  "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  "1S",
  "application/grpc",
  "http://x/a\x7f",
];

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;

function extraFields(r: () => number): Fields {
  const out: Fields = [];
  for (let n = Math.floor(r() * 5); n > 0; n--) out.push([pick(r, NAMES), pick(r, VALUES)]);
  return out;
}

/** A request head: each pseudo-header usually right, sometimes odd or left out, and a few fields. */
function requestHead(r: () => number): Fields {
  const slot = (name: string, good: string, odd: readonly string[]): Fields => {
    const x = r();
    if (x < 0.08) return [];
    if (x < 0.3) return [[name, pick(r, odd)]];
    if (x < 0.33)
      return [
        [name, good],
        [name, pick(r, odd)],
      ];
    return [[name, good]];
  };
  const head: Fields = [
    ...slot(":method", "GET", ["POST", "HEAD", "OPTIONS", "CONNECT", "DELETE", "get", "G T", ""]),
    ...slot(":scheme", "http", ["https", "", "ftp"]),
    ...slot(":path", "/a?b=1", ["*", "http://x/a", "", "a", "/%00", "/a b", "/\x7f", `/${"p".repeat(3000)}`]),
    ...slot(":authority", "server", ["server:80", "", "a b", "[::1]:80", "x".repeat(300), "server:99999"]),
  ];
  if (r() < 0.1) head.push([":protocol", "websocket"]);
  return [...head, ...extraFields(r)];
}

/** An answer head and what follows it. */
function reply(r: () => number): RawReply {
  const status =
    r() < 0.5 ? "200" : pick(r, ["204", "304", "404", "503", "99", "999", "600", "100", "abc", "", "200 "]);
  const head: Fields = r() < 0.05 ? [] : [[":status", status]];
  head.push(...extraFields(r));
  const x = r();
  if (x < 0.1) return { head, body: "cut", resetAfterBody: pick(r, [0, 8]) }; // NO_ERROR, CANCEL
  if (x < 0.2) return { head };
  const body = r() < 0.8 ? "hi" : "";
  if (x < 0.7) return { head, body };
  const trailers: Fields = [["grpc-status", "0"], ...extraFields(r)];
  if (r() < 0.1) trailers.push([":status", "200"]);
  return { head, body, trailers };
}

function connectFailures(metrics: string): string[] {
  return metrics
    .split("\n")
    .filter((l) => l.startsWith("weft_upstream_requests_total") && l.includes("connect-failure"));
}

test(`generated request heads through a pair: answered, never forwarded broken (${cases} cases from ${seed})`, async (t) => {
  const app = http2.createServer();
  const received: http2.IncomingHttpHeaders[] = [];
  app.on("stream", (stream, headers) => {
    received.push(headers);
    stream.on("error", () => {});
    stream.respond({ ":status": 200 });
    stream.end("ok");
  });
  app.on("sessionError", () => {});
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => app.close());
  const p = await startPair({ appPort: (app.address() as AddressInfo).port, protocol: "http2" });
  t.teardown(() => p.close());
  for (let c = 0; c < cases; c++) {
    const r = seededRandom(seed + c);
    const head = requestHead(r);
    const body = r() < 0.3 ? "hello" : undefined;
    received.length = 0;
    const answer = await rawH2Request(p.port, head, body);
    const why = `${replay(seed + c)}: ${JSON.stringify(head).slice(0, 400)} -> ${JSON.stringify(answer).slice(0, 400)}`;
    t.not(answer.hung, true, why);
    if (answer.status !== undefined) {
      t.true(answer.status >= 200 && answer.status <= 599, why);
      t.false(answer.headers.some(connectionSpecific), why);
    }
    for (const h of received) {
      const fields = Object.entries(h).flatMap(([n, v]) =>
        (Array.isArray(v) ? v : [String(v)]).map((x): [string, string] => [n, x]),
      );
      t.false(
        fields.some(connectionSpecific),
        `${why} reached the app as ${JSON.stringify(h).slice(0, 400)}`,
      );
    }
  }
  t.deepEqual(connectFailures(p.client.metrics.render()), []);
  const after = await rawH2Request(p.port, [
    [":method", "GET"],
    [":scheme", "http"],
    [":path", "/"],
    [":authority", "server"],
  ]);
  t.is(after.status, 200);
  t.is(after.body, "ok");
});

test(`generated answers from an upstream through a pair: relayed or a 502, never a crash (${cases} cases from ${seed})`, async (t) => {
  let next: RawReply = { head: [[":status", "200"]], body: "ok" };
  const app = await rawH2Server(() => next);
  t.teardown(() => app.close());
  const p = await startPair({ appPort: app.port, protocol: "http2" });
  t.teardown(() => p.close());
  const session = () => {
    const s = http2.connect(`http://127.0.0.1:${p.port}`);
    s.on("error", () => {});
    return s;
  };
  let client = session();
  t.teardown(() => client.destroy());
  for (let c = 0; c < cases; c++) {
    const r = seededRandom(seed + c);
    next = reply(r);
    const grpc = r() < 0.3;
    if (client.closed || client.destroyed) client = session();
    const got = await new Promise<{ status?: number; headers?: http2.IncomingHttpHeaders; hung?: boolean }>(
      (resolve) => {
        const out: { status?: number; headers?: http2.IncomingHttpHeaders; hung?: boolean } = {};
        const timer = setTimeout(() => {
          out.hung = true;
          resolve(out);
        }, 5000);
        const req = client.request({
          ":method": "POST",
          ":path": "/x",
          ...(grpc ? { "content-type": "application/grpc", te: "trailers" } : {}),
        });
        req.on("response", (h) => {
          out.status = Number(h[":status"]);
          out.headers = h;
        });
        req.on("error", () => {});
        req.resume();
        req.on("close", () => {
          clearTimeout(timer);
          resolve(out);
        });
        req.end("body");
      },
    );
    const why = `${replay(seed + c)}: ${JSON.stringify(next).slice(0, 400)} -> ${JSON.stringify(got).slice(0, 300)}`;
    t.not(got.hung, true, why);
    if (got.status !== undefined) {
      t.true(got.status >= 200 && got.status <= 599, why);
      const fields = Object.entries(got.headers ?? {}).flatMap(([n, v]) =>
        (Array.isArray(v) ? v : [String(v)]).map((x): [string, string] => [n, x]),
      );
      t.false(fields.some(connectionSpecific), why);
    }
  }
  t.deepEqual(connectFailures(p.client.metrics.render()), []);
  next = { head: [[":status", "200"]], body: "ok" };
  client.destroy();
  client = session();
  const after = await new Promise<number>((resolve) => {
    const req = client.request({ ":path": "/" });
    req.on("response", (h) => resolve(Number(h[":status"])));
    req.on("error", () => resolve(0));
    req.resume();
  });
  t.is(after, 200);
});
