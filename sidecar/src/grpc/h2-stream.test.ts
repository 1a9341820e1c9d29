// One stream's bookkeeping, with a recording stand-in for the connection: response fields as sent
// (whatever their names), informational answers skipped, and the ending the server's frames make.
import test from "ava";
import { H2Code } from "./h2-frames";
import { H2Stream, type StreamOwner } from "./h2-stream";

function owner(): StreamOwner & { resets: number[]; forgotten: number } {
  const o = {
    resets: [] as number[],
    forgotten: 0,
    // Windows are never short here: an ended side's END_STREAM goes at once.
    flush: (s: H2Stream) => {
      if (s.ending && !s.localClosed) s.sentEnd();
    },
    reset: (_s: H2Stream, code: number) => void o.resets.push(code),
    forget: () => void o.forgotten++,
    writeWindowUpdate: () => {},
  };
  return o;
}

test("fields named like Object's own properties arrive as fields; 1xx is skipped; trailers follow", (t) => {
  const o = owner();
  const stream = new H2Stream(o, 1, 65_535);
  const seen: Array<[string, Record<string, string>]> = [];
  stream.on("response", (h: Record<string, string>) => seen.push(["response", h]));
  stream.on("trailers", (h: Record<string, string>) => seen.push(["trailers", h]));
  stream.end(); // our side is done, as after a unary request
  stream.onHeaders([[":status", "100"]], false);
  stream.onHeaders(
    [
      [":status", "200"],
      ["constructor", "c"],
      ["__proto__", "p"],
      ["x-twice", "a"],
      ["x-twice", "b"],
    ],
    false,
  );
  stream.onHeaders([["grpc-status", "0"]], true);
  t.deepEqual(
    seen.map(([kind, h]) => [kind, { ...h }]),
    [
      ["response", { ":status": "200", constructor: "c", ["__proto__"]: "p", "x-twice": "a, b" }],
      ["trailers", { "grpc-status": "0" }],
    ],
  );
  t.true(stream.destroyed);
  t.deepEqual(o.resets, [], "a stream both sides ended needs no reset");
});

test("a server that ends first while the request is still open gets RST_STREAM NO_ERROR, once", (t) => {
  const o = owner();
  const stream = new H2Stream(o, 3, 65_535);
  let closes = 0;
  stream.on("close", () => closes++);
  stream.on("data", () => stream.close()); // the reader gives up on the last data frame
  stream.onHeaders([[":status", "200"]], false);
  stream.received(Buffer.from("x"), true);
  t.deepEqual(o.resets, [H2Code.CANCEL]);
  t.is(closes, 1);

  const other = new H2Stream(o, 5, 65_535);
  other.onHeaders([[":status", "200"]], true);
  t.deepEqual(o.resets, [H2Code.CANCEL, H2Code.NO_ERROR]);
  t.is(other.rstCode, H2Code.NO_ERROR);
});
