// A control plane with --token: the gRPC calls that change the mesh (SyncEndpoints) or hand out an
// identity (SignCertificate) need it, as the HTTP API's writes do. The daemon's real registration
// client and a sidecar's real certificate client, given WEFT_TOKEN, get through; without it, or with
// another, the answer is UNAUTHENTICATED saying what to set, and nothing is registered or signed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import test from "ava";
import {
  openConfigStream,
  opensslCsr,
  signCertificate,
  syncEndpoints,
} from "../control-plane/src/grpc-testing";
import { startTestControlPlane } from "../control-plane/src/test-support";
import { grpcSync } from "../runtime/src/registration/wire";
import { WorkloadCertificates } from "../sidecar/src/identity/workload-certificate";

const TOKEN = "s3cret-token";

const bearer = (token: string) => {
  const m = new grpc.Metadata();
  m.set("authorization", `Bearer ${token}`);
  return m;
};

const endpoint = (id: string) => ({
  id,
  service: "orders",
  address: "10.88.0.7",
  ports: [{ port: 8080, protocol: "http" }],
  workload: `orders-${id}`,
  node: "n1",
  healthy: true,
});

test("registration and certificates need the token over the socket; reads and the token-bearing clients go on", async (t) => {
  const cp = await startTestControlPlane(t, undefined, { token: TOKEN });
  const dir = mkdtempSync(join(tmpdir(), "weft-token-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = `unix://${cp.socketPath}`;

  // Without the token, or with another: refused, saying what to set; nothing registered.
  const anonymous = await t.throwsAsync(
    syncEndpoints(socket, { source: "daemon:n1", endpoints: [endpoint("aaaa0000aaaa0000")] }),
  );
  t.is((anonymous as grpc.ServiceError).code, grpc.status.UNAUTHENTICATED);
  t.regex(anonymous?.message ?? "", /SyncEndpoints: this control plane runs with --token .*WEFT_TOKEN/);
  const wrong = await t.throwsAsync(
    syncEndpoints(
      socket,
      { source: "daemon:n1", endpoints: [endpoint("aaaa0000aaaa0000")] },
      bearer("guess"),
    ),
  );
  t.regex(wrong?.message ?? "", /does not match the control plane's --token/);
  const signAnonymous = await t.throwsAsync(
    signCertificate(socket, { node: { id: "x", service: "orders" }, csr_pem: opensslCsr(dir) }),
  );
  t.is((signAnonymous as grpc.ServiceError).code, grpc.status.UNAUTHENTICATED);
  t.is(cp.registry.getService("orders"), undefined);

  // The daemon's own client with WEFT_TOKEN registers.
  const wire = grpcSync(socket, TOKEN);
  t.teardown(() => wire.close());
  await wire.sync({
    source: "daemon:n1",
    endpoints: [
      {
        id: "bbbb1111bbbb1111",
        service: "orders",
        address: "10.88.0.8",
        ports: [{ port: 8080, protocol: "http" }],
        labels: {},
        workload: "orders-b",
        node: "n1",
        healthy: true,
        source: "daemon:n1",
      },
    ],
    services: [],
  });
  t.is(cp.registry.listEndpoints("orders").length, 1);
  // Reading config needs no token (sidecars' streams carry none): the service registered comes.
  const stream = openConfigStream(socket, {
    id: "reader",
    workload: "reader",
    service: "",
    address: "",
    labels: {},
  });
  t.teardown(() => stream.close());
  stream.subscribe("weft.v1.Service");
  const services = await stream.next("weft.v1.Service", 10_000);
  t.true(JSON.stringify(services.resources).includes("orders"));
  // A daemon without the token is told why its registrations fail.
  const tokenless = grpcSync(socket);
  t.teardown(() => tokenless.close());
  await t.throwsAsync(tokenless.sync({ source: "daemon:n2", endpoints: [], services: [] }), {
    message: /UNAUTHENTICATED|--token/,
  });

  // A sidecar's own certificate client with the token gets its identity; without it, the problem it
  // reports (admin /certs, logs) names the token.
  const node = {
    id: "orders-b.0",
    workload: "orders-b",
    service: "orders",
    address: "10.88.0.8",
    labels: {},
  };
  const withToken = new WorkloadCertificates({ controlPlane: socket, token: TOKEN, node, log: () => {} });
  t.teardown(() => withToken.close());
  withToken.start();
  const withoutToken = new WorkloadCertificates({ controlPlane: socket, node, log: () => {} });
  t.teardown(() => withoutToken.close());
  withoutToken.start();
  for (let i = 0; i < 200 && (!withToken.current || withoutToken.problem === "asking the control plane"); i++)
    await new Promise((r) => setTimeout(r, 25));
  t.is(withToken.current?.identity, "spiffe://weft.local/ns/default/svc/orders");
  t.is(withoutToken.current, undefined);
  t.regex(withoutToken.problem, /WEFT_TOKEN/);
});
