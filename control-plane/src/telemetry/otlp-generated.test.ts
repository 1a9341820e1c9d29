// Malformed OTLP, searched for: real requests made by the OpenTelemetry SDK's serializers (spans
// with every attribute type, nested arrays and maps, events, links, status; log records), then
// mutated (bytes changed, cut, spliced, doubled; JSON values swapped for the wrong types). Every
// decode either returns records that keep the store's invariants (ids in hex of the right length,
// kinds and status codes in range, strings within LIMITS) or throws TelemetryError BAD_OTLP, which
// the receivers answer with 400 and the reason; nothing else escapes (another exception was a 500
// to the app's SDK, and a retry of the same bytes forever). WEFT_FUZZ_SEED and WEFT_FUZZ_CASES
// explore further.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import {
  JsonLogsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import test, { type ExecutionContext } from "ava";
import { fuzzRun, mutateValues, replay, seededRandom as rng } from "../../../test/support/generated";
import { TelemetryError } from "./errors";
import { decodeLogsJson, decodeTraceJson } from "./otlp-json";
import { decodeLogsRequest, decodeTraceRequest } from "./otlp-protobuf";
import { TelemetryStore } from "./telemetry-store";
import {
  type Attributes,
  type AttrValue,
  LATEST_TIME_NS,
  LIMITS,
  type LogEntry,
  type SpanRecord,
} from "./types";

const RICH_ATTRIBUTES = {
  "http.request.method": "GET",
  "http.response.status_code": 503,
  "weft.retries": 2,
  ratio: 0.25,
  ok: false,
  big: -9007199254740991,
  list: ["a", "b"],
  numbers: [1, 2, 3],
  "long.value": "v".repeat(5000),
};

/** The spans of a small trace: a server span with a client child, events, a link and an error. */
function spans() {
  const memory = new InMemorySpanExporter();
  const p = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "shop", "service.instance.id": "i-1", region: "eu" }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = p.getTracer("weft-test", "1.0");
  const root = tracer.startSpan("GET /", { kind: SpanKind.SERVER, attributes: RICH_ATTRIBUTES });
  root.addEvent("retry", { attempt: 1, why: "503" });
  const child = tracer.startSpan("GET /ratings", {
    kind: SpanKind.CLIENT,
    links: [{ context: root.spanContext(), attributes: { kind: "follows" } }],
    attributes: { "peer.service": "ratings" },
  });
  child.setStatus({ code: SpanStatusCode.ERROR, message: "status 503" });
  child.end();
  root.end();
  return memory.getFinishedSpans();
}

async function logs() {
  const memory = new InMemoryLogRecordExporter();
  const p = new LoggerProvider({
    resource: resourceFromAttributes({ "service.name": "shop" }),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = p.getLogger("weft-test");
  logger.emit({
    severityNumber: SeverityNumber.ERROR,
    severityText: "ERROR",
    body: "boom",
    attributes: RICH_ATTRIBUTES,
  });
  logger.emit({ severityNumber: SeverityNumber.INFO, body: { structured: ["x", 1] } });
  await p.forceFlush(); // the simple processor exports a tick later
  const records = memory.getFinishedLogRecords();
  if (records.length !== 2) throw new Error(`the SDK made ${records.length} log records, not 2`);
  return records;
}

/** Byte-level mutations of a protobuf body. */
function mutate(r: () => number, body: Uint8Array): Buffer {
  const b = Buffer.from(body);
  const at = () => Math.floor(r() * b.length);
  switch (Math.floor(r() * 6)) {
    case 0: // a few bytes changed
      for (let n = 1 + Math.floor(r() * 4); n > 0; n--) b[at()] = Math.floor(r() * 256);
      return b;
    case 1: // cut short
      return b.subarray(0, at());
    case 2: // a byte set to a large-length or continuation pattern
      b[at()] = r() < 0.5 ? 0xff : 0x80;
      return b;
    case 3: {
      // a piece of the body spliced in elsewhere (lengths then disagree with what follows)
      const from = at();
      const piece = b.subarray(from, from + Math.floor(r() * 40));
      const to = at();
      return Buffer.concat([b.subarray(0, to), piece, b.subarray(to)]);
    }
    case 4: {
      // a piece removed
      const from = at();
      return Buffer.concat([b.subarray(0, from), b.subarray(from + 1 + Math.floor(r() * 20))]);
    }
    default: // the request twice (repeated fields are legal protobuf) and then changed
      return Buffer.concat([b, b.subarray(0, at())]);
  }
}

const WRONG = [null, 0, -1, 1e308, "", "zz", "0".repeat(40), true, [], {}, [null], { value: {} }, "\u0000"];

/** JSON-level mutations: a value somewhere replaced by one of the wrong type or shape. */
function mutateJson(r: () => number, text: string): string {
  if (r() < 0.2) {
    // text-level: a character changed or the text cut
    const i = Math.floor(r() * text.length);
    return r() < 0.5
      ? text.slice(0, i)
      : text.slice(0, i) + String.fromCharCode(32 + Math.floor(r() * 95)) + text.slice(i + 1);
  }
  return JSON.stringify(mutateValues(r, JSON.parse(text), { wrong: WRONG }));
}

function checkValue(t: import("ava").ExecutionContext, v: AttrValue, depth: number, where: string): void {
  if (typeof v === "string")
    t.true(v.length <= LIMITS.maxStringChars + 40, `a string past the limit (${v.length}); ${where}`);
  else if (Array.isArray(v)) {
    t.true(depth <= LIMITS.maxDepth && v.length <= LIMITS.maxListEntries, `a list past the limits; ${where}`);
    for (const x of v) checkValue(t, x, depth + 1, where);
  } else if (v && typeof v === "object") {
    const entries = Object.values(v as Attributes);
    t.true(
      depth <= LIMITS.maxDepth && entries.length <= LIMITS.maxListEntries,
      `a map past the limits; ${where}`,
    );
    for (const x of entries) checkValue(t, x, depth + 1, where);
  }
}

function checkAttributes(t: import("ava").ExecutionContext, a: Attributes, where: string): void {
  t.true(Object.keys(a).length <= LIMITS.maxAttributes, `too many attributes; ${where}`);
  for (const v of Object.values(a)) checkValue(t, v, 1, where);
}

function checkSpan(t: import("ava").ExecutionContext, s: SpanRecord, where: string): void {
  t.regex(s.traceId, /^[0-9a-f]{32}$/, where);
  t.regex(s.spanId, /^[0-9a-f]{16}$/, where);
  t.regex(s.parentSpanId, /^([0-9a-f]{16})?$/, where);
  t.true(
    s.kind >= 0 && s.kind <= 5 && s.statusCode >= 0 && s.statusCode <= 2,
    `kind or status out of range; ${where}`,
  );
  t.true(
    Number.isFinite(s.durationNs) && s.durationNs >= 0,
    `a duration that is not a number of ns; ${where}`,
  );
  t.is(typeof s.startNs, "bigint", where);
  // SQLite keeps signed 64 bits: a later time failed the store (a 503 senders retry).
  t.true(s.startNs >= 0n && s.startNs <= LATEST_TIME_NS, `a start the store cannot keep; ${where}`);
  t.true(s.name.length <= LIMITS.maxStringChars + 40 && typeof s.service === "string", where);
  checkAttributes(t, s.attributes, where);
  checkAttributes(t, s.resource, where);
  t.true(s.events.length <= LIMITS.maxEvents, `too many events; ${where}`);
}

function checkLog(t: import("ava").ExecutionContext, l: LogEntry, where: string): void {
  t.true(["debug", "info", "warn", "error"].includes(l.level), `a level outside the four; ${where}`);
  t.true(l.message.length <= LIMITS.maxMessageChars + 40, `a message past the limit; ${where}`);
  t.regex(l.traceId, /^([0-9a-f]{32})?$/, where);
  t.true(l.timeNs >= 0n && l.timeNs <= LATEST_TIME_NS, `a time the store cannot keep; ${where}`);
}

/** A real span and log store in a temp dir, closed and removed at the end of the test. */
function storeFor(t: ExecutionContext): TelemetryStore {
  const dir = mkdtempSync(join(tmpdir(), "weft-otlp-gen-"));
  const store = new TelemetryStore({ path: join(dir, "telemetry.db"), log: () => {} });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

/**
 * Runs `decode` on each mutation of `good`; anything but a result or BAD_OTLP fails the test, and
 * what decodes must also be stored by `keep` (a real store): a store failure was a 503 that
 * senders retry with the whole request.
 */
function search<T>(
  t: import("ava").ExecutionContext,
  name: string,
  original: T,
  mutated: (r: () => number, g: T) => Buffer | string,
  decode: (body: Buffer | string) => { records: unknown[] },
  check: (record: never, where: string) => void,
  keep: (records: never[]) => void,
): void {
  const { seed, cases } = fuzzRun(3000);
  let refused = 0;
  for (let i = 0; i < cases; i++) {
    const body = mutated(rng(seed + i), original);
    const where = `${name}, ${replay(seed + i)}`;
    try {
      const { records } = decode(body);
      for (const rec of records) check(rec as never, where);
      keep(records as never[]);
    } catch (err) {
      if (err instanceof TelemetryError && err.code === "BAD_OTLP") refused++;
      else t.fail(`${where}: ${err instanceof Error ? err.stack : String(err)}`);
    }
  }
  t.log(
    `${name}: ${cases} mutations, ${refused} refused as BAD_OTLP, the rest decoded within the limits and stored`,
  );
  t.true(refused > 0 && refused < cases, "the mutations reach both outcomes");
}

const NOW = 1_700_000_000_000_000_000n;

test("mutated OTLP/protobuf traces decode within the limits or are refused as BAD_OTLP", (t) => {
  const store = storeFor(t);
  search(
    t,
    "protobuf traces",
    ProtobufTraceSerializer.serializeRequest(spans()) as Uint8Array,
    mutate,
    (b) => ({ records: decodeTraceRequest(b as Buffer).spans }),
    (s: SpanRecord, where) => checkSpan(t, s, where),
    (records: SpanRecord[]) => store.addSpans(records),
  );
});

test("mutated OTLP/protobuf logs decode within the limits or are refused as BAD_OTLP", async (t) => {
  const store = storeFor(t);
  search(
    t,
    "protobuf logs",
    ProtobufLogsSerializer.serializeRequest(await logs()) as Uint8Array,
    mutate,
    (b) => ({ records: decodeLogsRequest(b as Buffer, NOW).logs }),
    (l: LogEntry, where) => checkLog(t, l, where),
    (records: LogEntry[]) => store.addLogs(records),
  );
});

test("mutated OTLP/JSON traces and logs decode within the limits or are refused as BAD_OTLP", async (t) => {
  const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes as Uint8Array).toString();
  const store = storeFor(t);
  search(
    t,
    "JSON traces",
    text(JsonTraceSerializer.serializeRequest(spans())),
    mutateJson,
    (s) => ({ records: decodeTraceJson(s as string).spans }),
    (s: SpanRecord, where) => checkSpan(t, s, where),
    (records: SpanRecord[]) => store.addSpans(records),
  );
  search(
    t,
    "JSON logs",
    text(JsonLogsSerializer.serializeRequest(await logs())),
    mutateJson,
    (s) => ({ records: decodeLogsJson(s as string, NOW).logs }),
    (l: LogEntry, where) => checkLog(t, l, where),
    (records: LogEntry[]) => store.addLogs(records),
  );
});

test("an attribute value over the limit is cut to it over protobuf as over JSON", (t) => {
  const sdkSpans = spans();
  const longOf = (s: SpanRecord[]) => s.find((x) => x.name === "GET /")?.attributes["long.value"] as string;
  const proto = longOf(
    decodeTraceRequest(Buffer.from(ProtobufTraceSerializer.serializeRequest(sdkSpans) as Uint8Array)).spans,
  );
  const json = longOf(
    decodeTraceJson(Buffer.from(JsonTraceSerializer.serializeRequest(sdkSpans) as Uint8Array).toString())
      .spans,
  );
  // 5000 ASCII characters: under 4 bytes a character, the protobuf reader used to keep them whole.
  for (const v of [proto, json]) {
    t.true(v.startsWith("v".repeat(LIMITS.maxStringChars)), "the first maxStringChars are kept");
    t.regex(v.slice(LIMITS.maxStringChars), /^\.\.\.\[truncated 904 (bytes|chars)\]$/);
  }
});
