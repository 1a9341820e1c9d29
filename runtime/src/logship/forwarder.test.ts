import test from "ava";
import type { ContainerState, EngineEvent, LogEntry, LogQuery } from "../engine/types";
import { ContainerLogForwarder, type ForwardedLine, toLine } from "./forwarder";

function container(id: string, name: string, service?: string): ContainerState {
  return { id, name, service, image: "shop", labels: {} } as unknown as ContainerState;
}

function entry(data: string, stream: "stdout" | "stderr" = "stdout"): LogEntry {
  return { stream, time: "2026-11-29T10:00:00.123456789Z", data: Buffer.from(`${data}\n`) };
}

/** A log stream the test feeds line by line. */
class Feed {
  private queue: LogEntry[] = [];
  private wake?: () => void;
  ended = false;
  push(e: LogEntry): void {
    this.queue.push(e);
    this.wake?.();
  }
  async *stream(): AsyncGenerator<LogEntry> {
    try {
      for (;;) {
        while (this.queue.length > 0) yield this.queue.shift()!;
        await new Promise<void>((r) => {
          this.wake = r;
        });
      }
    } finally {
      this.ended = true;
    }
  }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
}

test("lines of running and newly started containers reach the shipper, tagged; removal stops following", async (t) => {
  const feeds = new Map<string, Feed>([
    ["aaa", new Feed()],
    ["bbb", new Feed()],
  ]);
  const running = [container("aaa", "front-1", "front")];
  let listener: (e: EngineEvent) => void = () => undefined;
  const queries: LogQuery[] = [];
  const shipped: ForwardedLine[] = [];
  const fwd = new ContainerLogForwarder({
    node: "node-1",
    shipper: { push: (l) => shipped.push(l) },
    engine: {
      list: async (all) => (all ? [...running, container("bbb", "back-1")] : running),
      logStream: (ref, q) => {
        queries.push(q);
        return feeds.get(ref)!.stream();
      },
      subscribe: (l) => {
        listener = l;
        return () => undefined;
      },
    },
  });
  await fwd.start();
  feeds.get("aaa")!.push(entry("GET / 200 trace_id=4bf92f3577b34da6a3ce929d0e0e4736"));
  listener({ type: "container", action: "start", id: "bbb", attributes: {}, time: "", timeNano: 0 });
  await until(() => queries.length === 2);
  feeds.get("bbb")!.push(entry("boom: connection refused", "stderr"));
  await until(() => shipped.length === 2);
  t.true(queries.every((q) => q.follow && q.stdout && q.stderr && q.since instanceof Date));
  t.like(shipped[0], {
    service: "front",
    container: "front-1",
    instance: "node-1",
    source: "stdout",
    level: "info",
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    timeUnixNano: `${Date.UTC(2026, 10, 29, 10, 0, 0) / 1000}123456789`,
  });
  t.like(shipped[1], { service: "back-1", container: "back-1", source: "stderr", level: "warn" });
  listener({ type: "container", action: "destroy", id: "bbb", attributes: {}, time: "", timeNano: 0 });
  feeds.get("bbb")!.push(entry("after removal"));
  await until(() => feeds.get("bbb")!.ended);
  t.true(feeds.get("bbb")!.ended, "the removed container's stream was closed");
  t.is(shipped.length, 2, "nothing after the removal was shipped");
  fwd.close();
});

test("levels and trace ids are read from JSON lines, logfmt and plain text", (t) => {
  const c = container("abc", "web-1", "web");
  t.like(
    toLine(entry('{"level":"error","msg":"db down","traceId":"4BF92F3577B34DA6A3CE929D0E0E4736"}'), c, "n"),
    {
      level: "error",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    },
  );
  t.like(toLine(entry("ts=1 level=debug msg=cache span_id=00f067aa0ba902b7"), c, "n"), {
    level: "debug",
    spanId: "00f067aa0ba902b7",
  });
  t.like(toLine(entry("2026-11-29T10:00:00Z WARN slow query"), c, "n"), { level: "warn" });
  t.like(toLine(entry("got traceparent 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), c, "n"), {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    level: "info",
  });
  const long = toLine(entry("x".repeat(40_000)), c, "n");
  t.true(long.message.length <= 16 * 1024 + 1, "huge lines are cut");
});

test("a restart while the previous run is still followed starts a new follow from the new start", async (t) => {
  const feeds = [new Feed(), new Feed()];
  let calls = 0;
  let listener: (e: EngineEvent) => void = () => undefined;
  const shipped: ForwardedLine[] = [];
  const fwd = new ContainerLogForwarder({
    node: "n",
    shipper: { push: (l) => shipped.push(l) },
    engine: {
      list: async () => [container("aaa", "job-1", "job")],
      logStream: () => feeds[calls++]!.stream(),
      subscribe: (l) => {
        listener = l;
        return () => undefined;
      },
    },
  });
  await fwd.start();
  await until(() => calls === 1);
  listener({ type: "container", action: "start", id: "aaa", attributes: {}, time: "", timeNano: 0 });
  await until(() => calls === 2);
  feeds[1]!.push(entry("second run"));
  await until(() => shipped.length === 1);
  t.is(shipped[0]?.message, "second run");
  feeds[0]!.push(entry("late line of the first run"));
  await until(() => feeds[0]!.ended);
  t.true(feeds[0]!.ended, "the first run's follow was ended");
  t.is(shipped.length, 1);
  fwd.close();
});

test("a level the line declares first wins over words later in it; pino's numbers are mapped", (t) => {
  const c = container("abc", "web-1", "web");
  const cases: Array<[string, "debug" | "info" | "warn" | "error", ("stdout" | "stderr")?]> = [
    // pino and bunyan: numeric levels
    ['{"level":10,"msg":"x"}', "debug"],
    ['{"level":20,"msg":"x"}', "debug"],
    ['{"level":30,"msg":"an error we recovered from"}', "info"],
    ['{"level":40,"msg":"x"}', "warn"],
    ['{"level":50,"msg":"db down"}', "error"],
    ['{"level":60,"msg":"x"}', "error"],
    ['{"level":30,"msg":"x"}', "info", "stderr"],
    ['{"severity":"WARNING","message":"x"}', "warn"],
    ['{"level":"info","msg":"error budget fine"}', "info"],
    // a level word first, maybe after a timestamp, in brackets or with a colon
    ["INFO request to /trace/export done", "info"],
    ["[INFO] GET /debug/pprof 200", "info"],
    ["2026-11-29T10:00:00.123Z INFO cleared error state on retry", "info"],
    ["2026-11-29 10:00:00,123 WARN disk at 91% (debug: off)", "warn"],
    ["10:00:00 [DEBUG] retrying after error", "debug"],
    ["[2026-11-29T10:00:00Z] [error] upstream reset", "error"],
    ["INFO: Started server process [1]", "info"],
    ["ERROR: relation does not exist", "error"],
    ["error: could not bind", "error"],
    ["warning: deprecated flag", "warn"],
    ["[WRN] slow", "warn"],
    ['level=info msg="error count reset"', "info"],
    ["ts=1 level=debug msg=cache span_id=00f067aa0ba902b7", "debug"],
    ["SEVERE: out of memory", "error"],
    ["panic: runtime error: index out of range", "error"],
    // a level in capitals further in (logback, Python logging)
    ["10:00:00.123 [main] INFO  c.e.App - cleared error state on retry", "info"],
    ["2026-11-29 10:00:00,123 - shop - ERROR - payment failed", "error"],
    // no declared level: conservative words in the head, never parts of paths or names
    ["GET /debug/pprof 200", "info"],
    ["GET /errors/latest 200", "info"],
    ["wrote trace_id=4bf92f3577b34da6a3ce929d0e0e4736", "info"],
    ["connection error talking to db", "error"],
    ["boom: connection refused", "warn", "stderr"],
    ["listening on :8080", "info"],
  ];
  for (const [line, level, stream] of cases) {
    t.is(toLine(entry(line, stream), c, "n").level, level, line);
  }
});
