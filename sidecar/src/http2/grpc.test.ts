// Real gRPC (@grpc/grpc-js client and server) through a sidecar pair over h2c: the four call
// kinds, status and trailers, a deadline and a cancellation carried to the server.
import * as grpc from "@grpc/grpc-js";
import test, { type ExecutionContext } from "ava";
import { exportedSpans, pushedAccessLines } from "../testing/exported-telemetry";
import { startPair } from "../testing/pair";
import { rawMethod } from "../testing/raw-method";
import type { FakeControlPlane } from "../testing/wire-fake-control-plane";

const service = {
  unary: rawMethod("/t.Echo/Unary"),
  fromServer: rawMethod("/t.Echo/FromServer", false, true),
  fromClient: rawMethod("/t.Echo/FromClient", true, false),
  both: rawMethod("/t.Echo/Both", true, true),
  slow: rawMethod("/t.Echo/Slow"),
} as const;

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

interface Server {
  client: Client;
  /** Resolves when the server saw a call cancelled. */
  cancelled: Promise<string>;
  seenMetadata: grpc.Metadata[];
  cp: FakeControlPlane;
}

async function setup(t: ExecutionContext): Promise<Server> {
  const server = new grpc.Server();
  const seenMetadata: grpc.Metadata[] = [];
  let onCancel: (name: string) => void = () => {};
  const cancelled = new Promise<string>((r) => (onCancel = r));
  server.addService(service as unknown as grpc.ServiceDefinition, {
    unary(call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) {
      seenMetadata.push(call.metadata);
      const text = call.request.toString();
      if (text === "missing") return cb({ code: grpc.status.NOT_FOUND, details: "no such thing" });
      const trailer = new grpc.Metadata();
      trailer.set("x-trailer", "t1");
      cb(null, Buffer.from(`echo ${text}`), trailer);
    },
    fromServer(call: grpc.ServerWritableStream<Buffer, Buffer>) {
      const n = Number(call.request.toString());
      call.on("cancelled", () => onCancel("fromServer"));
      if (n < 0) {
        // Keeps streaming until the client cancels.
        const timer = setInterval(() => call.write(Buffer.from("tick")), 20);
        call.on("cancelled", () => clearInterval(timer));
        return;
      }
      for (let i = 0; i < n; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
    fromClient(call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) {
      let sum = 0;
      call.on("data", (d: Buffer) => (sum += Number(d.toString())));
      call.on("end", () => cb(null, Buffer.from(String(sum))));
    },
    both(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
      call.on("data", (d: Buffer) => call.write(Buffer.from(`re:${d}`)));
      call.on("end", () => call.end());
    },
    slow(call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) {
      const timer = setTimeout(() => cb(null, Buffer.from("late")), 5000);
      call.on("cancelled", () => {
        clearTimeout(timer);
        onCancel("slow");
      });
    },
  });
  const appPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  const pair = await startPair({ appPort });
  const Ctor = grpc.makeGenericClientConstructor(service as unknown as grpc.ServiceDefinition, "Echo");
  const client = new Ctor(`127.0.0.1:${pair.port}`, grpc.credentials.createInsecure()) as unknown as Client;
  t.teardown(async () => {
    client.close();
    await pair.close();
    server.forceShutdown();
  });
  return { client, cancelled, seenMetadata, cp: pair.cp };
}

function unary(client: Client, method: string, body: string, options: grpc.CallOptions = {}) {
  return new Promise<{ err: grpc.ServiceError | null; value?: Buffer; trailers?: grpc.Metadata }>(
    (resolve) => {
      let trailers: grpc.Metadata | undefined;
      const call = client[method]?.(
        Buffer.from(body),
        new grpc.Metadata(),
        options,
        (err: grpc.ServiceError | null, value?: Buffer) =>
          setImmediate(() => resolve({ err, value, trailers })),
      ) as grpc.ClientUnaryCall;
      call.on("status", (s: grpc.StatusObject) => (trailers = s.metadata));
    },
  );
}

test("unary gRPC through the pair: response, trailers, error status and request metadata", async (t) => {
  const s = await setup(t);
  const ok = await unary(s.client, "unary", "hi");
  t.is(ok.err, null);
  t.is(ok.value?.toString(), "echo hi");
  t.deepEqual(ok.trailers?.get("x-trailer"), ["t1"], "trailers carried end to end");
  const missing = await unary(s.client, "unary", "missing");
  t.is(missing.err?.code, grpc.status.NOT_FOUND);
  t.is(missing.err?.details, "no such thing");
  const via = String(s.seenMetadata[0]?.get("via"));
  t.is(via, "1.1 client (weft-outbound), 1.1 server (weft-inbound)");
  t.truthy(s.seenMetadata[0]?.get("x-request-id")[0], "a request id was set");
  // Both sidecars' spans and access-log lines say gRPC (the proxy reads the content type).
  const lines = await pushedAccessLines(s.cp, 4);
  t.is(lines.length, 4, "two calls, a line from each sidecar");
  t.deepEqual([...new Set(lines.map((l) => l.attributes.protocol))], ["grpc"]);
  const spans = [...(await exportedSpans(s.cp, 2, 2)), ...(await exportedSpans(s.cp, 3, 2))];
  t.is(spans.length, 4);
  t.deepEqual([...new Set(spans.map((x) => x.attributes["network.protocol.name"]))], ["grpc"]);
});

test("server, client and bidirectional streaming through the pair", async (t) => {
  const s = await setup(t);
  const fromServer = await new Promise<string[]>((resolve, reject) => {
    const out: string[] = [];
    const call = s.client.fromServer?.(Buffer.from("5")) as grpc.ClientReadableStream<Buffer>;
    call.on("data", (d: Buffer) => out.push(d.toString()));
    call.on("end", () => resolve(out));
    call.on("error", reject);
  });
  t.deepEqual(fromServer, ["0", "1", "2", "3", "4"]);

  const sum = await new Promise<string>((resolve, reject) => {
    const call = s.client.fromClient?.((err: Error | null, v?: Buffer) =>
      err ? reject(err) : resolve(String(v)),
    ) as grpc.ClientWritableStream<Buffer>;
    for (const n of [1, 2, 3, 4]) call.write(Buffer.from(String(n)));
    call.end();
  });
  t.is(sum, "10");

  const echoed = await new Promise<string[]>((resolve, reject) => {
    const out: string[] = [];
    const call = s.client.both?.() as grpc.ClientDuplexStream<Buffer, Buffer>;
    call.on("data", (d: Buffer) => {
      out.push(d.toString());
      // Ping-pong: the next message goes only after the answer came back through both sidecars.
      if (out.length < 3) call.write(Buffer.from(String(out.length)));
      else call.end();
    });
    call.on("end", () => resolve(out));
    call.on("error", reject);
    call.write(Buffer.from("0"));
  });
  t.deepEqual(echoed, ["re:0", "re:1", "re:2"]);
});

test("a deadline expires as DEADLINE_EXCEEDED and the server sees the call cancelled", async (t) => {
  const s = await setup(t);
  const res = await unary(s.client, "slow", "x", { deadline: Date.now() + 300 });
  t.is(res.err?.code, grpc.status.DEADLINE_EXCEEDED);
  t.is(await s.cancelled, "slow");
});

test("a client cancelling a stream cancels it at the server", async (t) => {
  const s = await setup(t);
  const call = s.client.fromServer?.(Buffer.from("-1")) as grpc.ClientReadableStream<Buffer>;
  call.on("error", () => {});
  await new Promise<void>((resolve) => call.once("data", () => resolve()));
  call.cancel();
  t.is(await s.cancelled, "fromServer");
});
