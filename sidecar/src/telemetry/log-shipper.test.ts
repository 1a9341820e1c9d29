import test from "ava";
import { linesOf } from "../testing/log-batches";
import { type EncodedLines, LogShipper, type ShippedLine } from "./log-shipper";

function line(n: number): ShippedLine {
  return {
    timeUnixNano: "0",
    service: "front",
    container: "front-1",
    instance: "n",
    level: "info",
    source: "access",
    message: `line ${n}`,
    traceId: "",
    spanId: "",
    attributes: {},
  };
}

/** A buffer and batches of five lines, flushed only when asked, 100 ms of backoff after a failure. */
const FIVE_AT_MOST = { maxBuffered: 5, maxBatch: 5, flushIntervalMs: 60_000, backoffMs: 100 };

test("lines go out in batches of at most maxBatch", async (t) => {
  const batches: string[][] = [];
  const shipper = new LogShipper({
    send: async (batch) => {
      const lines = linesOf(batch);
      batches.push(lines.map((l) => l.message));
      return { accepted: lines.length, dropped: 0 };
    },
    maxBatch: 3,
    flushIntervalMs: 60_000,
  });
  for (let i = 0; i < 7; i++) shipper.push(line(i));
  await shipper.close();
  await shipper.flush();
  t.deepEqual(batches.flat(), ["line 0", "line 1", "line 2", "line 3", "line 4", "line 5", "line 6"]);
  t.true(batches.every((b) => b.length <= 3));
  t.is(shipper.stats.sent, 7);
});

test("while the sink is down the buffer stays bounded, drops are counted and reported with the next batch", async (t) => {
  let up = false;
  let now = 0;
  const reported: number[] = [];
  const got: string[] = [];
  const shipper = new LogShipper({
    send: async (batch, dropped) => {
      const lines = linesOf(batch);
      if (!up) throw new Error("sink unavailable");
      reported.push(dropped);
      got.push(...lines.map((l) => l.message));
      return { accepted: lines.length, dropped: 0 };
    },
    ...FIVE_AT_MOST,
    now: () => now,
  });
  for (let i = 0; i < 5; i++) shipper.push(line(i));
  await shipper.flush(); // fails: the batch goes back into the buffer
  t.is(shipper.stats.failures, 1);
  for (let i = 5; i < 8; i++) shipper.push(line(i)); // no room: dropped, never waited for
  t.is(shipper.stats.buffered, 5);
  t.is(shipper.stats.dropped, 3);
  await shipper.flush(); // still inside the backoff: nothing is tried
  t.is(shipper.stats.failures, 1);
  up = true;
  now = 1000;
  await shipper.flush();
  t.deepEqual(got, ["line 0", "line 1", "line 2", "line 3", "line 4"]);
  t.deepEqual(reported, [3], "the sink learns how many lines were lost");
  await shipper.close();
});

test("the backoff doubles after each failure and resets after a success", async (t) => {
  let now = 0;
  let fail = true;
  const attempts: number[] = [];
  const shipper = new LogShipper({
    send: async (batch) => {
      const lines = linesOf(batch);
      attempts.push(now);
      if (fail) throw new Error("down");
      return { accepted: lines.length, dropped: 0 };
    },
    flushIntervalMs: 60_000,
    backoffMs: 100,
    maxBackoffMs: 300,
    now: () => now,
  });
  shipper.push(line(1));
  for (now = 0; now <= 1000; now += 50) await shipper.flush();
  t.deepEqual(attempts, [0, 100, 300, 600, 900], "100, 200, then capped at 300");
  fail = false;
  now = 1200;
  await shipper.flush();
  t.is(shipper.stats.sent, 1);
  await shipper.close();
});

test("a full batch goes out without waiting for the flush interval a first line started", async (t) => {
  const batches: string[][] = [];
  const shipper = new LogShipper({
    send: async (batch) => {
      const lines = linesOf(batch);
      batches.push(lines.map((l) => l.message));
      return { accepted: lines.length, dropped: 0 };
    },
    maxBatch: 3,
    flushIntervalMs: 600_000,
  });
  for (let i = 0; i < 3; i++) shipper.push(line(i));
  // Polls for up to 10 s: the interval is ten minutes, so only the full batch can have sent it.
  for (let i = 0; i < 1000 && batches.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.deepEqual(batches, [["line 0", "line 1", "line 2"]]);
  await shipper.close();
});

test("lines that come while a batch is out go into the next one; a failed batch that no longer fits is dropped whole and reported", async (t) => {
  let fail: (err: Error) => void = () => {};
  const sent: EncodedLines[] = [];
  const reported: number[] = [];
  let up = false;
  let now = 0;
  const shipper = new LogShipper({
    send: (batch, dropped) => {
      sent.push(batch);
      if (up) {
        reported.push(dropped);
        return Promise.resolve({ accepted: batch.lines, dropped: 0 });
      }
      return new Promise((_resolve, reject) => {
        fail = reject;
      });
    },
    ...FIVE_AT_MOST,
    now: () => now,
  });
  for (let i = 0; i < 5; i++) shipper.push(line(i));
  const out = shipper.flush();
  for (let i = 5; i < 10; i++) shipper.push(line(i)); // room again: the five out are not held
  const first = sent[0] as EncodedLines;
  t.deepEqual(
    linesOf(first).map((l) => l.message),
    ["line 0", "line 1", "line 2", "line 3", "line 4"],
    "the batch being sent keeps its bytes",
  );
  fail(new Error("sink unavailable"));
  await out;
  t.is(shipper.stats.dropped, 5, "no room to put it back");
  t.is(shipper.stats.buffered, 5);
  up = true;
  now = 1000;
  await shipper.flush();
  t.deepEqual(
    linesOf(sent[1] as EncodedLines).map((l) => l.message),
    ["line 5", "line 6", "line 7", "line 8", "line 9"],
  );
  t.deepEqual(reported, [5]);
  await shipper.close();
});
