import { PassThrough } from "node:stream";
import test from "ava";
import { linesOf } from "../testing/log-batches";
import { type AccessEntry, AccessLog, type LoggingSettings } from "./access-log";
import { LogShipper, type ShippedLine } from "./log-shipper";

const ENTRY: AccessEntry = {
  direction: "outbound",
  method: "GET",
  authority: "reviews:8080",
  path: "/reviews?id=1",
  protocol: "http/1.1",
  status: 200,
  durationMs: 12.3456,
  bytesReceived: 0,
  bytesSent: 512,
  upstream: "10.88.0.7:8080",
  service: "reviews",
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  requestId: "req-1",
  peer: "127.0.0.1",
  peerIdentity: "",
};

const ON: LoggingSettings = {
  level: "info",
  accessLog: true,
  fields: [],
  samplingRatio: 1,
  sinks: ["control-plane"],
};

function setup(random = () => 0.5) {
  const batches: ShippedLine[][] = [];
  const shipper = new LogShipper({
    send: async (batch) => {
      const lines = linesOf(batch);
      batches.push(lines);
      return { accepted: lines.length, dropped: 0 };
    },
    flushIntervalMs: 1,
  });
  const stdout = new PassThrough();
  let printed = "";
  stdout.on("data", (b: Buffer) => {
    printed += b.toString();
  });
  const log = new AccessLog({
    workload: "front-1",
    service: "front",
    nodeId: "front-1.abc",
    shipper,
    stdout,
    random,
  });
  const lines = async () => {
    await shipper.flush();
    return batches.flat();
  };
  return { log, lines, printed: () => printed };
}

test("an access-log line carries the request's fields and trace ids, filed under the workload's service", async (t) => {
  const { log, lines } = setup();
  log.configure(ON);
  log.record(ENTRY);
  const [line] = await lines();
  t.truthy(line);
  t.is(line!.source, "access");
  t.is(line!.service, "front");
  t.is(line!.container, "front-1");
  t.is(line!.instance, "front-1.abc");
  t.is(line!.traceId, ENTRY.traceId);
  t.is(line!.spanId, ENTRY.spanId);
  t.is(line!.message, "outbound GET reviews:8080/reviews?id=1 200 12ms");
  t.like(line!.attributes, {
    method: "GET",
    status: "200",
    upstream: "10.88.0.7:8080",
    upstream_service: "reviews",
    duration_ms: "12.346",
    bytes_sent: "512",
    request_id: "req-1",
  });
  // Made now (sent as milliseconds, encoded straight to nanoseconds): the sink reads this moment.
  t.regex(line!.timeUnixNano, /^\d{13}000000$/);
  t.true(Math.abs(Number(line!.timeUnixNano.slice(0, 13)) - Date.now()) < 5000, line!.timeUnixNano);
});

test("the callee's line for a request says inbound, where the caller's says outbound", async (t) => {
  const { log, lines } = setup();
  log.configure(ON);
  log.record({ ...ENTRY, direction: "inbound" });
  const [line] = await lines();
  t.is(line?.message, "inbound GET reviews:8080/reviews?id=1 200 12ms");
});

test("fields, sampling and the on/off switch follow the config, and failures are always kept", async (t) => {
  const { log, lines } = setup(() => 0.9);
  log.configure({ ...ON, fields: ["status", "upstream"], samplingRatio: 0.5 });
  log.record(ENTRY); // sampled out: 0.9 >= 0.5
  log.record({ ...ENTRY, status: 503 });
  log.record({ ...ENTRY, status: 0 });
  log.configure({ ...ON, accessLog: false });
  log.record({ ...ENTRY, status: 500 });
  const got = await lines();
  t.deepEqual(
    got.map((l) => l.attributes),
    [
      { status: "503", upstream: "10.88.0.7:8080" },
      { status: "0", upstream: "10.88.0.7:8080" },
    ],
  );
  t.deepEqual(
    got.map((l) => l.level),
    ["error", "error"],
  );
});

test("the level filters the sidecar's own messages, and sinks switch live between control plane and stdout", async (t) => {
  const { log, lines, printed } = setup();
  log.configure({ ...ON, level: "warn" });
  log.log("info", "config applied");
  log.log("error", "config rejected", { reason: "bad weight" });
  log.configure({ ...ON, sinks: ["stdout"] });
  log.record(ENTRY);
  const got = await lines();
  t.deepEqual(
    got.map((l) => [l.level, l.source, l.message, l.attributes.reason]),
    [["error", "app", "config rejected", "bad weight"]],
  );
  const json = JSON.parse(printed().trim().split("\n").at(-1)!) as Record<string, unknown>;
  t.is(json.message, "outbound GET reviews:8080/reviews?id=1 200 12ms");
  t.is(json.traceId, ENTRY.traceId);
});
