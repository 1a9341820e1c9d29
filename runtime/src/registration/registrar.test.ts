import * as grpc from "@grpc/grpc-js";
import test from "ava";
import { loadWeftProto } from "../../../proto/grpc";
import type { SyncEndpointsRequest__Output } from "../../../proto/index";
import type { ContainerState } from "../engine/types";
import { Registrar } from "./registrar";
import type { SyncRequest } from "./types";
import { grpcSync } from "./wire";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const fastClock = {
  now: () => new Date(),
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 5))),
};

function container(name: string, service?: string): ContainerState {
  return {
    id: `${name}-id`,
    name,
    image: "i",
    imageId: "x",
    created: "",
    status: "running",
    address: `10.0.0.${name.length}`,
    gateway: "10.0.0.1",
    netns: "n",
    hostVeth: "v",
    cmd: [],
    env: [],
    service,
    ports: [{ port: 8080, protocol: "http" }],
    labels: { version: "v1" },
    sidecar: true,
    uid: 0,
    gid: 0,
    cgroupPath: "/weft/x",
  };
}

test("pushes the full set on start and after each change; retries while the control plane is away", async (t) => {
  const sent: SyncRequest[] = [];
  let failuresLeft = 3;
  const registrar = new Registrar({
    node: "n1",
    logger: quiet,
    clock: fastClock,
    sync: async (r) => {
      if (failuresLeft-- > 0) throw new Error("connection refused");
      sent.push(r);
    },
  });
  registrar.start();
  registrar.update([container("web", "web"), container("batch")]);
  // Polled, not slept: a loaded machine (CI) takes longer than any fixed wait.
  await until(() => sent.length > 0);
  const last = sent.at(-1)!;
  t.is(last.source, "daemon:n1");
  t.deepEqual(
    last.endpoints.map((e) => [e.workload, e.service, e.node]),
    [["web", "web", "n1"]],
  );
  t.deepEqual(last.services, [{ name: "web", ports: [{ port: 8080, protocol: "http" }] }]);
  registrar.update([]);
  await until(() => sent.at(-1)?.endpoints.length === 0);
  t.deepEqual(sent.at(-1)!.endpoints, []);
  await registrar.close();
});

/** Waits until `done()` holds, for up to 10 s (the test fails on its assertions after that). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}

test("the wire module sends SyncEndpoints a control plane understands", async (t) => {
  const proto = loadWeftProto();
  const server = new grpc.Server();
  const received: SyncEndpointsRequest__Output[] = [];
  server.addService(proto.weft.v1.Registration.service, {
    SyncEndpoints: (
      call: grpc.ServerUnaryCall<SyncEndpointsRequest__Output, object>,
      cb: grpc.sendUnaryData<object>,
    ) => {
      received.push(call.request);
      cb(null, { index: "1", services: [] });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  t.teardown(() => server.forceShutdown());
  const { sync, close } = grpcSync(`127.0.0.1:${port}`);
  t.teardown(close);
  await sync({
    source: "daemon:n1",
    endpoints: [
      {
        id: "c1",
        service: "web",
        address: "10.0.0.2",
        ports: [{ port: 8080, protocol: "http" }],
        labels: { v: "1" },
        workload: "web",
        node: "n1",
        healthy: true,
        source: "daemon:n1",
      },
    ],
    services: [{ name: "web", ports: [{ port: 8080, protocol: "http" }] }],
  });
  t.is(received[0]!.source, "daemon:n1");
  t.like(received[0]!.endpoints[0], {
    id: "c1",
    service: "web",
    address: "10.0.0.2",
    workload: "web",
    healthy: true,
  });
  t.like(received[0]!.endpoints[0]!.ports[0], { port: 8080, protocol: "http" });
  t.is(received[0]!.services[0]!.origin, "implied");
});

test("re-sends the unchanged set as a heartbeat so the control plane's lease stays fresh", async (t) => {
  const sent: SyncRequest[] = [];
  const registrar = new Registrar({
    node: "n1",
    logger: quiet,
    clock: { now: () => new Date(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) },
    heartbeatMs: 50,
    sync: async (r) => {
      sent.push(r);
    },
  });
  registrar.start();
  registrar.update([container("web", "web")]);
  await new Promise((r) => setTimeout(r, 30));
  const afterChange = sent.length;
  await new Promise((r) => setTimeout(r, 300));
  t.true(sent.length >= afterChange + 3, `${sent.length - afterChange} heartbeats in 300 ms`);
  t.deepEqual(sent.at(-1), sent[afterChange - 1]);
  await registrar.close();
});
