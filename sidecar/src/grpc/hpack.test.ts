import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import net from "node:net";
import test, { type ExecutionContext } from "ava";
import { encodeHeaders, HpackDecoder, HpackError } from "./hpack";
import { huffmanDecode, huffmanEncode } from "./huffman";

type Fields = Array<[string, string]>;

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

/** The dynamic table as the decoder sees it, newest first, probed through indexed fields from 62 on. */
function dynamicTable(d: HpackDecoder): Fields {
  const entries: Fields = [];
  // Single-octet indices reach 126, far more entries than any table in these tests holds.
  for (let index = 62; index < 127; index++) {
    try {
      entries.push(...d.decode(Buffer.from([0x80 | index])));
    } catch (err) {
      if (err instanceof HpackError) return entries;
      throw err;
    }
  }
  throw new Error("dynamic table too long to probe");
}

// RFC 7541 Appendix C.4/C.6 Huffman strings.
const HUFFMAN_VECTORS: Array<[string, string]> = [
  ["f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com"],
  ["a8eb 1064 9cbf", "no-cache"],
  ["25a8 49e9 5ba9 7d7f", "custom-key"],
  ["25a8 49e9 5bb8 e8b4 bf", "custom-value"],
  ["6402", "302"],
  ["aec3 771a 4b", "private"],
  ["d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", "Mon, 21 Oct 2013 20:13:21 GMT"],
  ["9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com"],
  ["9bd9 ab", "gzip"],
  [
    "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
  ],
];

test("Huffman: the RFC 7541 Appendix C strings decode and encode", (t) => {
  for (const [coded, text] of HUFFMAN_VECTORS) {
    t.is(huffmanDecode(hex(coded)), text);
    t.is(huffmanEncode(text).toString("hex"), hex(coded).toString("hex"));
  }
});

test("Huffman: every octet round-trips, alone and together", (t) => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString("latin1");
  for (const ch of all) t.is(huffmanDecode(huffmanEncode(ch)), ch);
  t.is(huffmanDecode(huffmanEncode(all)), all);
  t.is(huffmanDecode(Buffer.alloc(0)), "");
});

test("Huffman: EOS, padding over 7 bits and padding with a 0 bit are refused", (t) => {
  const bad = [
    "ffff ffff fc", // EOS then "?"
    "ff", // 8 bits of padding
    "1fff", // "a" then 11 bits of padding
    "ff9f ffff ff", // padding that ends inside a symbol
    "00", // "0" then "000": padding not all 1s
  ];
  for (const coded of bad) t.throws(() => huffmanDecode(hex(coded)), { instanceOf: HpackError }, coded);
});

test("RFC 7541 C.2: literal fields and an indexed field", (t) => {
  const cases: Step[] = [
    [
      "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
      [["custom-key", "custom-header"]],
      [["custom-key", "custom-header"]],
      55,
    ],
    ["040c 2f73 616d 706c 652f 7061 7468", [[":path", "/sample/path"]], [], 0],
    ["1008 7061 7373 776f 7264 0673 6563 7265 74", [["password", "secret"]], [], 0],
    ["82", [[":method", "GET"]], [], 0],
  ];
  for (const step of cases) decodeSeries(t, 4096, [step]);
});

/** One block of an Appendix C series: its fields, then the table (newest first) and its size after it. */
type Step = [block: string, fields: Fields, table: Fields, size: number];

function decodeSeries(t: ExecutionContext, maxTableSize: number, steps: Step[]): void {
  const d = new HpackDecoder(maxTableSize);
  for (const [block, fields, table, size] of steps) {
    t.deepEqual(d.decode(hex(block)), fields);
    t.deepEqual(dynamicTable(d), table);
    t.is(d.tableSize, size);
  }
}

const REQ1: Fields = [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", "/"],
  [":authority", "www.example.com"],
];
const REQ2: Fields = [...REQ1, ["cache-control", "no-cache"]];
const REQ3: Fields = [
  [":method", "GET"],
  [":scheme", "https"],
  [":path", "/index.html"],
  [":authority", "www.example.com"],
  ["custom-key", "custom-value"],
];
const REQ_TABLES: Fields[] = [
  [[":authority", "www.example.com"]],
  [
    ["cache-control", "no-cache"],
    [":authority", "www.example.com"],
  ],
  [
    ["custom-key", "custom-value"],
    ["cache-control", "no-cache"],
    [":authority", "www.example.com"],
  ],
];

test("RFC 7541 C.3: three requests without Huffman share the dynamic table", (t) => {
  decodeSeries(t, 4096, [
    ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", REQ1, REQ_TABLES[0]!, 57],
    ["8286 84be 5808 6e6f 2d63 6163 6865", REQ2, REQ_TABLES[1]!, 110],
    ["8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65", REQ3, REQ_TABLES[2]!, 164],
  ]);
});

test("RFC 7541 C.4: the same requests with Huffman", (t) => {
  decodeSeries(t, 4096, [
    ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", REQ1, REQ_TABLES[0]!, 57],
    ["8286 84be 5886 a8eb 1064 9cbf", REQ2, REQ_TABLES[1]!, 110],
    ["8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", REQ3, REQ_TABLES[2]!, 164],
  ]);
});

const DATE1 = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE2 = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOC = "https://www.example.com";
const COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const RESP1: Fields = [
  [":status", "302"],
  ["cache-control", "private"],
  ["date", DATE1],
  ["location", LOC],
];
const RESP2: Fields = [[":status", "307"], ...RESP1.slice(1)];
const RESP3: Fields = [
  [":status", "200"],
  ["cache-control", "private"],
  ["date", DATE2],
  ["location", LOC],
  ["content-encoding", "gzip"],
  ["set-cookie", COOKIE],
];
const RESP_TABLES: Fields[] = [
  [...RESP1].reverse(),
  [[":status", "307"], ...[...RESP1].reverse().slice(0, 3)],
  [
    ["set-cookie", COOKIE],
    ["content-encoding", "gzip"],
    ["date", DATE2],
  ],
];

test("RFC 7541 C.5: responses with a 256-byte table evict the oldest entries", (t) => {
  decodeSeries(t, 256, [
    [
      `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
       2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
      RESP1,
      RESP_TABLES[0]!,
      222,
    ],
    ["4803 3330 37c1 c0bf", RESP2, RESP_TABLES[1]!, 222],
    [
      `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
       54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
       5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
      RESP3,
      RESP_TABLES[2]!,
      215,
    ],
  ]);
});

test("RFC 7541 C.6: the same responses with Huffman", (t) => {
  decodeSeries(t, 256, [
    [
      `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
       2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
      RESP1,
      RESP_TABLES[0]!,
      222,
    ],
    ["4883 640e ffc1 c0bf", RESP2, RESP_TABLES[1]!, 222],
    [
      `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
       77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
       9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
      RESP3,
      RESP_TABLES[2]!,
      215,
    ],
  ]);
});

test("a size update at the start of a block shrinks the table; one to 0 empties it", (t) => {
  const d = new HpackDecoder();
  d.decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"));
  t.is(d.tableSize, 57);
  t.deepEqual(d.decode(Buffer.from([0x20, 0x3f, 0xe1, 0x1f, 0x82])), [[":method", "GET"]]);
  t.deepEqual(dynamicTable(d), []);
  t.is(d.tableSize, 0);
});

const ROUND_TRIPS: Fields = [
  [":method", "POST"],
  [":scheme", "http"],
  [":path", "/weft.v1.Discovery/Watch"],
  [":authority", "control-plane:7070"],
  ["content-type", "application/grpc"],
  ["te", "trailers"],
  ["grpc-timeout", "5S"],
  ["x-empty", ""],
  ["accept", ""],
  ["x-long", "v".repeat(300)],
  ["x-octets", "caf\xe9 \x80\xff"],
  ["x".repeat(200), "long name"],
];

test("encodeHeaders round-trips through the decoder without touching its table", (t) => {
  const d = new HpackDecoder();
  const block = encodeHeaders(ROUND_TRIPS);
  t.deepEqual(d.decode(block), ROUND_TRIPS);
  t.is(d.tableSize, 0);
  t.deepEqual(d.decode(block), ROUND_TRIPS);
  t.deepEqual(encodeHeaders([]), Buffer.alloc(0));
});

test("encodeHeaders picks the representation the contract names", (t) => {
  t.deepEqual(encodeHeaders([[":method", "POST"]]), Buffer.from([0x83]));
  t.deepEqual(encodeHeaders([[":path", "/a"]]), Buffer.from([0x04, 0x02, 0x2f, 0x61]));
  t.deepEqual(encodeHeaders([["a", "b"]]), Buffer.from([0x00, 0x01, 0x61, 0x01, 0x62]));
  // 300 = 127 + 173: the length continues in two octets (173 = 0x2d + 1·128).
  t.deepEqual(encodeHeaders([["te", "v".repeat(300)]]).subarray(0, 6), hex("0002 7465 7fad"));
});

test("malformed header blocks throw HpackError", (t) => {
  const bad: Array<[string, string, HpackDecoder?]> = [
    ["index 0", "80"],
    ["index past the static table (empty dynamic table)", "be"],
    ["index far past the tables", "ff 80 80 80 01"],
    ["integer truncated", "ff"],
    ["integer continuing past 2^31", "ff ff ff ff ff 0f"],
    ["integer with too many continuation octets", "ff 80 80 80 80 80 00"],
    ["name index truncated", "0f"],
    ["string length truncated", "00 7f"],
    ["string shorter than its length", "00 05 6162"],
    ["value missing", "00 01 61"],
    ["Huffman value with EOS", "04 85 ffff ffff fc"],
    ["Huffman value with 8 bits of padding", "04 81 ff"],
    ["Huffman value with a 0 in the padding", "04 81 00"],
    ["size update above the advertised maximum", "3f e2 1f"],
    ["size update above a smaller advertised maximum", "3f e2 01", new HpackDecoder(256)],
    ["size update after a field", "82 20"],
    ["list over maxListBytes", "82 82", new HpackDecoder(4096, 2 * (7 + 3 + 32) - 1)],
  ];
  for (const [what, block, decoder] of bad) {
    const err = t.throws(
      () => (decoder ?? new HpackDecoder()).decode(hex(block)),
      { instanceOf: HpackError },
      what,
    );
    t.is(err?.code, "COMPRESSION_ERROR");
  }
  t.deepEqual(new HpackDecoder(4096, 2 * (7 + 3 + 32)).decode(hex("82 82")).length, 2);
  t.deepEqual(new HpackDecoder(256).decode(hex("3f e1 01 82")), [[":method", "GET"]]);
});

// ---- Interop with node:http2 (nghttp2's encoder and decoder) over raw frames ----

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const HEADERS = 1;
const SETTINGS = 4;
const CONTINUATION = 9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** Complete header blocks (HEADERS + CONTINUATION, padding and priority stripped) in the order sent. */
function headerBlocks(bytes: Buffer): Array<{ streamId: number; block: Buffer }> {
  const blocks: Array<{ streamId: number; block: Buffer }> = [];
  let open: { streamId: number; parts: Buffer[] } | undefined;
  for (let pos = 0; pos + 9 <= bytes.length; ) {
    const length = bytes.readUIntBE(pos, 3);
    const [type, flags] = [bytes[pos + 3]!, bytes[pos + 4]!];
    const streamId = bytes.readUInt32BE(pos + 5) & 0x7fffffff;
    let payload = bytes.subarray(pos + 9, pos + 9 + length);
    pos += 9 + length;
    if (type === HEADERS) {
      const padLength = flags & PADDED ? payload[0]! : 0;
      payload = payload.subarray(flags & PADDED ? 1 : 0, payload.length - padLength);
      if (flags & PRIORITY) payload = payload.subarray(5);
      open = { streamId, parts: [payload] };
    } else if (type === CONTINUATION) {
      open?.parts.push(payload);
    } else {
      continue;
    }
    if (open && flags & END_HEADERS) {
      blocks.push({ streamId: open.streamId, block: Buffer.concat(open.parts) });
      open = undefined;
    }
  }
  return blocks;
}

function pairs(raw: string[]): Fields {
  const out: Fields = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** Node passes the received fields in order as the fourth 'stream' argument; @types/node 20 leaves it out. */
function onStream(
  server: http2.Http2Server,
  listener: (stream: http2.ServerHttp2Stream, fields: Fields) => void,
): void {
  const withRaw = (stream: http2.ServerHttp2Stream, _headers: unknown, _flags: unknown, raw: string[]) =>
    listener(stream, pairs(raw));
  server.on("stream", withRaw as (stream: http2.ServerHttp2Stream) => void);
}

const listen = (server: net.Server | http2.Http2Server): Promise<number> =>
  new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );

for (const headerTableSize of [4096, 256]) {
  test(`decodes what a node:http2 client and server send (header table ${headerTableSize})`, async (t) => {
    const seen = new Map<number, Fields>();
    const server = http2.createServer({ settings: { headerTableSize } });
    onStream(server, (stream, fields) => {
      seen.set(stream.id!, fields);
      stream.respond({ ":status": 200, "content-type": "application/grpc", "x-echo": `stream ${stream.id}` });
      stream.end();
    });
    const toServer: Buffer[] = [];
    const toClient: Buffer[] = [];
    const proxy = net.createServer((down) => {
      const up = net.connect(serverPort, "127.0.0.1");
      down.on("data", (chunk: Buffer) => toServer.push(chunk));
      up.on("data", (chunk: Buffer) => toClient.push(chunk));
      down.pipe(up).pipe(down);
      down.on("error", () => up.destroy());
      up.on("error", () => down.destroy());
    });
    const serverPort = await listen(server);
    const proxyPort = await listen(proxy);

    const client = http2.connect(`http://127.0.0.1:${proxyPort}`);
    const methods = ["Watch", "Report", "Watch", "Watch"];
    for (const [i, method] of methods.entries()) {
      const req = client.request({
        ":method": "POST",
        ":path": `/weft.v1.Discovery/${method}`,
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": `${i + 1}S`,
        "x-weft-node": "shop-7f9c",
        "x-long": "abcdefghij".repeat(20),
        "x-octets": "caf\xe9",
        authorization: "Bearer secret-token",
        [http2.sensitiveHeaders]: ["authorization"],
      });
      req.end();
      req.resume();
      await new Promise((resolve) => req.on("close", resolve));
    }
    await new Promise<void>((resolve) => client.close(() => resolve()));
    proxy.close();
    server.close();

    const requests = headerBlocks(Buffer.concat(toServer).subarray(PREFACE.length));
    t.is(requests.length, methods.length);
    // A decoder starts at the protocol default; the client shrinks it with a size update once it hears ours.
    const requestDecoder = new HpackDecoder(4096);
    for (const { streamId, block } of requests) t.deepEqual(requestDecoder.decode(block), seen.get(streamId));
    t.true(requestDecoder.tableSize > 0);
    // With room in the table, repeats go out as dynamic-table indices: proof this path was exercised.
    if (headerTableSize === 4096) t.true(requests[3]!.block.length < requests[0]!.block.length / 2);
    t.true(requestDecoder.tableSize <= headerTableSize);

    const responses = headerBlocks(Buffer.concat(toClient));
    t.is(responses.length, methods.length);
    const responseDecoder = new HpackDecoder(4096);
    for (const { streamId, block } of responses) {
      const fields = responseDecoder.decode(block);
      t.deepEqual(fields[0], [":status", "200"]);
      t.deepEqual(
        fields.find(([name]) => name === "x-echo"),
        ["x-echo", `stream ${streamId}`],
      );
    }
  });
}

test("a node:http2 server accepts the header blocks encodeHeaders produces", async (t) => {
  const seen: Fields[] = [];
  const server = http2.createServer();
  let done: () => void = () => {};
  const twoStreams = new Promise<void>((resolve) => {
    done = resolve;
  });
  onStream(server, (stream, fields) => {
    seen.push(fields);
    stream.respond({ ":status": 200 }, { endStream: true });
    if (seen.length === 2) done();
  });
  const port = await listen(server);
  const lists: Fields[] = [
    ROUND_TRIPS.slice(0, 8),
    [
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "weft"],
      ["x-long", "v".repeat(300)],
      ["x-octets", "caf\xe9"],
    ],
  ];
  const socket = net.connect(port, "127.0.0.1");
  socket.resume();
  socket.write(
    Buffer.concat([
      PREFACE,
      frame(SETTINGS, 0, 0, Buffer.alloc(0)),
      frame(HEADERS, END_STREAM | END_HEADERS, 1, encodeHeaders(lists[0]!)),
      frame(HEADERS, END_STREAM | END_HEADERS, 3, encodeHeaders(lists[1]!)),
    ]),
  );
  await twoStreams;
  socket.destroy();
  server.close();
  t.deepEqual(seen, lists);
});
