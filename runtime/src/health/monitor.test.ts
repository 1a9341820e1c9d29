// Interval, retries and start period with a fake clock: nothing here sleeps.
import test from "ava";
import type { Clock } from "../engine/parts";
import type { HealthCheckSpec, HealthState } from "../engine/types";
import { HealthMonitor } from "./monitor";
import { capOutput, MAX_OUTPUT_BYTES } from "./probe";

/** Time moves only when the test says so; sleeps resolve when their deadline is reached. */
class FakeClock implements Clock {
  private t = Date.parse("2026-01-01T00:00:00Z");
  private sleepers: Array<{ at: number; resolve: () => void }> = [];
  now(): Date {
    return new Date(this.t);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.sleepers.push({ at: this.t + ms, resolve }));
  }
  pending(): number {
    return this.sleepers.length;
  }
  /** Moves time on and lets every probe that became due run to completion. */
  async advance(ms: number): Promise<void> {
    this.t += ms;
    const due = this.sleepers.filter((s) => s.at <= this.t);
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const s of due) s.resolve();
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  }
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

function setup(results: number[], spec: Partial<HealthCheckSpec> = {}) {
  const clock = new FakeClock();
  const states: HealthState[] = [];
  const calls: string[][] = [];
  const monitor = new HealthMonitor({
    clock,
    logger: quiet,
    exec: async (_id, args) => {
      calls.push(args);
      const exitCode = results.shift() ?? 0;
      return { exitCode, output: `probe ${calls.length} exit ${exitCode}` };
    },
    onChange: (_id, h) => states.push(h),
  });
  monitor.watch({
    id: "c1",
    name: "web",
    address: "10.0.0.2",
    startedAt: clock.now().toISOString(),
    healthcheck: {
      exec: ["check"],
      intervalMs: 10_000,
      timeoutMs: 1000,
      retries: 3,
      startPeriodMs: 0,
      ...spec,
    },
  });
  const last = () => states[states.length - 1]!;
  return { clock, monitor, states, calls, last };
}

test("a container starts in 'starting' and the first probe waits one interval", async (t) => {
  const { clock, calls, last, monitor } = setup([0]);
  t.is(last().status, "starting");
  await clock.advance(9_999);
  t.is(calls.length, 0);
  await clock.advance(1);
  t.is(calls.length, 1);
  t.is(last().status, "healthy");
  t.is(last().log.length, 1);
  monitor.close();
});

test("unhealthy only after `retries` consecutive failures; one success resets the streak", async (t) => {
  const { clock, last, monitor } = setup([0, 1, 1, 0, 1, 1, 1]);
  await clock.advance(10_000);
  t.is(last().status, "healthy");
  await clock.advance(10_000);
  await clock.advance(10_000);
  t.is(last().status, "healthy", "two failures of three allowed");
  t.is(last().failingStreak, 2);
  await clock.advance(10_000);
  t.is(last().failingStreak, 0);
  await clock.advance(10_000);
  await clock.advance(10_000);
  t.is(last().status, "healthy");
  await clock.advance(10_000);
  t.is(last().status, "unhealthy");
  t.is(last().failingStreak, 3);
  monitor.close();
});

test("failures inside the start period do not count, and a success ends it", async (t) => {
  const { clock, last, monitor } = setup([1, 1, 1, 1, 0, 1], { retries: 1, startPeriodMs: 45_000 });
  for (let i = 0; i < 4; i++) await clock.advance(10_000);
  t.is(last().status, "starting", "four failures inside 45 s of start period");
  t.is(last().failingStreak, 0);
  t.is(last().log.length, 4, "they are still logged");
  await clock.advance(10_000);
  t.is(last().status, "healthy");
  await clock.advance(10_000);
  t.is(last().status, "unhealthy", "after the start period one failure is enough with retries 1");
  monitor.close();
});

test("a success inside the start period ends it early", async (t) => {
  const { clock, last, monitor } = setup([0, 1], { retries: 1, startPeriodMs: 600_000 });
  await clock.advance(10_000);
  t.is(last().status, "healthy");
  await clock.advance(10_000);
  t.is(last().status, "unhealthy");
  monitor.close();
});

test("the state keeps the last 5 results, oldest first", async (t) => {
  const { clock, last, monitor } = setup([0, 0, 0, 0, 0, 0, 0]);
  for (let i = 0; i < 7; i++) await clock.advance(10_000);
  t.deepEqual(
    last().log.map((r) => r.output),
    [3, 4, 5, 6, 7].map((n) => `probe ${n} exit 0`),
  );
  monitor.close();
});

test("unwatch stops probing and reports nothing more", async (t) => {
  const { clock, calls, states, monitor } = setup([0, 0, 0]);
  await clock.advance(10_000);
  const seen = states.length;
  monitor.unwatch("c1");
  await clock.advance(30_000);
  t.is(calls.length, 1);
  t.is(states.length, seen);
});

test("watch again replaces the earlier loop and can carry on from a saved state", async (t) => {
  const { clock, calls, monitor, last } = setup([1, 0]);
  await clock.advance(10_000);
  monitor.watch({
    id: "c1",
    name: "web",
    address: "10.0.0.2",
    startedAt: clock.now().toISOString(),
    healthcheck: { exec: ["check2"], intervalMs: 5_000, timeoutMs: 1000, retries: 3, startPeriodMs: 0 },
    health: { status: "healthy", failingStreak: 0, log: [] },
  });
  t.is(last().status, "healthy");
  await clock.advance(5_000);
  t.deepEqual(calls, [["check"], ["check2"]], "one loop only, with the new spec");
  monitor.close();
});

test("output is capped at 4 KiB", (t) => {
  t.is(Buffer.byteLength(capOutput("x".repeat(10_000))), MAX_OUTPUT_BYTES);
  t.true(Buffer.byteLength(capOutput("é".repeat(5000))) <= MAX_OUTPUT_BYTES);
  t.is(capOutput("short"), "short");
});
