// The schema-driven codec against protobufjs (what proto-loader and grpc-js use on the control
// plane's side): the same bytes decode to the same objects, and what the codec writes protobufjs
// reads back as written.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import protobuf from "protobufjs";
import { renderSchema } from "../scripts/gen-proto-schema.mjs";
import { fuzzRun, replay, seededRandom } from "../test/support/generated";
import { decodeMessage, encodeMessage, ProtoDecodeError } from "./codec";
import { PROTO_FILES, protoDir } from "./index";
import { SCHEMA } from "./schema";

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(protoDir(), target);
root.loadSync([...PROTO_FILES], { keepCase: true });
root.resolveAll();
/** proto-loader's conversion options, as every Weft component loads the contract. */
const AS_LOADED = { longs: String, enums: String, defaults: true, oneofs: true };

function viaProtobufjs(type: string, value: Record<string, unknown>): Buffer {
  const t = root.lookupType(`weft.v1.${type}`);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
}
function readByProtobufjs(type: string, bytes: Uint8Array): Record<string, unknown> {
  const t = root.lookupType(`weft.v1.${type}`);
  return t.toObject(t.decode(bytes), AS_LOADED);
}

const response = {
  type_url: "weft.v1.ServiceRoutes",
  version_info: "42",
  nonce: "n-7",
  incremental: true,
  removed_resources: ["old-a", "old-b"],
  resources: [
    {
      name: "reviews",
      version: "3",
      service: {
        name: "reviews",
        virtual_ip: "10.96.0.7",
        ports: [{ name: "http", port: 9080, protocol: "http" }],
        labels: { team: "books", tier: "" },
        origin: "config",
      },
    },
    {
      name: "reviews",
      endpoints: {
        service: "reviews",
        endpoints: [
          {
            id: "e1",
            address: "10.88.0.5",
            ports: [{ name: "http", port: 9080 }],
            labels: { version: "v2" },
            healthy: true,
          },
          { id: "e2", address: "10.88.0.6", healthy: false },
        ],
      },
    },
    {
      name: "reviews",
      routes: {
        service: "reviews",
        routes: [
          {
            name: "canary",
            version: "18446744073709551615",
            spec: {
              service: "reviews",
              rules: [
                {
                  match: { path_prefix: "/api", method: "GET", headers: { "x-user": "jason" } },
                  split: [
                    { labels: { version: "v1" }, weight: 90 },
                    { labels: { version: "v2" }, weight: 10 },
                  ],
                  timeout_ms: 1500,
                  retries: { attempts: 3, retry_on_status: [503, 502, 0], budget_ratio: 0.25 },
                  fault: { delay_ratio: 0.5, delay_ms: 200, abort_ratio: 0.125, abort_status: 500 },
                },
              ],
            },
          },
        ],
      },
    },
    {
      name: "p",
      policy: { service: "reviews", name: "p", version: "9", spec: { load_balancer: "round_robin" } },
    },
    {
      name: "t",
      telemetry: {
        name: "t",
        version: "1",
        spec: { tracing: { enabled: true, sampling_ratio: 1, resource_attributes: { env: "test" } } },
      },
    },
  ],
};

test("a response with every resource kind decodes to what proto-loader gives", (t) => {
  const bytes = viaProtobufjs("DiscoveryResponse", response);
  t.deepEqual(
    decodeMessage(SCHEMA, "DiscoveryResponse", bytes),
    readByProtobufjs("DiscoveryResponse", bytes),
  );
});

test("an empty message decodes to proto-loader's defaults", (t) => {
  for (const type of ["DiscoveryResponse", "Resource", "RouteRule", "TelemetryConfig", "Endpoint"]) {
    t.deepEqual(decodeMessage(SCHEMA, type, Buffer.alloc(0)), readByProtobufjs(type, Buffer.alloc(0)), type);
  }
});

test("what the codec writes protobufjs reads back, zero values and negatives included", (t) => {
  const request = {
    node: {
      id: "w-1",
      workload: "w",
      service: "reviews",
      address: "10.88.0.5",
      labels: { version: "v2", empty: "" },
    },
    type_url: "weft.v1.ServiceEndpoints",
    version_info: "",
    response_nonce: "n-1",
    resource_names: ["reviews", "ratings", ""],
    error_detail: { code: -3, message: "resources[0]: bad ✓" },
  };
  const bytes = encodeMessage(SCHEMA, "DiscoveryRequest", request);
  t.deepEqual(
    readByProtobufjs("DiscoveryRequest", bytes),
    readByProtobufjs("DiscoveryRequest", viaProtobufjs("DiscoveryRequest", request)),
  );
  t.deepEqual(decodeMessage(SCHEMA, "DiscoveryRequest", bytes), readByProtobufjs("DiscoveryRequest", bytes));
  const whole = encodeMessage(SCHEMA, "DiscoveryResponse", response);
  t.deepEqual(
    readByProtobufjs("DiscoveryResponse", whole),
    readByProtobufjs("DiscoveryResponse", viaProtobufjs("DiscoveryResponse", response)),
  );
});

test("fields a newer contract adds are skipped", (t) => {
  const known = viaProtobufjs("Status", { code: 5, message: "gone" });
  // field 15 varint, field 16 length-delimited, field 17 fixed64, field 18 fixed32
  const extra = Buffer.from([
    0x78,
    0x96,
    0x01,
    0x82,
    0x01,
    0x02,
    0x68,
    0x69,
    0x89,
    0x01,
    ...Array(8).fill(1),
    0x95,
    0x01,
    1,
    2,
    3,
    4,
  ]);
  t.deepEqual(decodeMessage(SCHEMA, "Status", Buffer.concat([extra, known])), { code: 5, message: "gone" });
});

test("truncated or mistyped bytes are refused with a reason", (t) => {
  const bytes = viaProtobufjs("DiscoveryResponse", response);
  for (const cut of [1, 7, bytes.length - 1]) {
    t.throws(() => decodeMessage(SCHEMA, "DiscoveryResponse", bytes.subarray(0, cut)), {
      instanceOf: ProtoDecodeError,
    });
  }
  // type_url (a string) sent as a varint
  t.throws(() => decodeMessage(SCHEMA, "DiscoveryResponse", Buffer.from([0x08, 0x01])), {
    instanceOf: ProtoDecodeError,
    message: /string field arrived with wire type 0/,
  });
});

test("schema.ts matches the .proto files (run scripts/gen-proto-schema.mjs after changing them)", (t) => {
  t.is(readFileSync(join(protoDir(), "schema.ts"), "utf8"), renderSchema());
});

test("mutated bytes of every message a peer sends decode or are refused as ProtoDecodeError, nothing else", (t) => {
  // What each side reads from the other: the sidecar a DiscoveryResponse, the control plane its
  // requests, registrations and log batches. A rogue or broken peer must get a refusal, never an
  // exception the gRPC handler did not expect, nor a hang. WEFT_FUZZ_SEED / WEFT_FUZZ_CASES explore.
  const messages: Array<[string, Record<string, unknown>]> = [
    ["DiscoveryResponse", response],
    [
      "DiscoveryRequest",
      {
        type_url: "weft.v1.ServiceRoutes",
        version_info: "4",
        response_nonce: "n-1",
        resource_names: ["reviews", "ratings"],
        node: { id: "w-1", workload: "w", service: "reviews", address: "10.88.0.5", labels: { v: "2" } },
        error_detail: { code: 3, message: "bad" },
      },
    ],
    [
      "LogBatch",
      {
        records: [
          {
            time_unix_nano: "1700000000000000000",
            service: "reviews",
            level: "info",
            message: "GET / 200",
            attributes: { status: "200" },
          },
        ],
        dropped: "3",
      },
    ],
  ];
  const { seed, cases } = fuzzRun(3000);
  for (const [type, value] of messages) {
    const good = encodeMessage(SCHEMA, type, value);
    let refused = 0;
    for (let i = 0; i < cases; i++) {
      const r = seededRandom(seed + i);
      const b = Buffer.from(good);
      const at = () => Math.floor(r() * b.length);
      let bytes: Buffer = b;
      const shape = Math.floor(r() * 4);
      if (shape === 0) for (let n = 1 + Math.floor(r() * 4); n > 0; n--) b[at()] = Math.floor(r() * 256);
      else if (shape === 1) bytes = b.subarray(0, at());
      else if (shape === 2) b[at()] = r() < 0.5 ? 0xff : 0x80;
      else {
        const from = at();
        bytes = Buffer.concat([b.subarray(0, at()), b.subarray(from, from + 30), b.subarray(at())]);
      }
      try {
        decodeMessage(SCHEMA, type, bytes);
      } catch (err) {
        if (err instanceof ProtoDecodeError) refused++;
        else t.fail(`${type}, ${replay(seed + i)}: ${bytes.toString("hex")}\n${(err as Error).stack}`);
      }
    }
    t.true(refused > 0 && refused < cases, `${type}: the mutations reach both outcomes (${refused} refused)`);
  }
});
