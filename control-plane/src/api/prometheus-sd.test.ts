import test from "ava";
import { syncEndpoints } from "../grpc-testing";
import { startTestControlPlane } from "../test-support";

test("http_sd lists daemon endpoints on the sidecar port, and agent ones only with a metrics_port", async (t) => {
  const cp = await startTestControlPlane(t);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [
      {
        id: "c1",
        service: "reviews",
        address: "10.88.0.2",
        labels: { version: "v2" },
        workload: "reviews-1",
        node: "n1",
        healthy: true,
      },
    ],
  });
  const register = (body: object) =>
    fetch(`http://${cp.httpAddress}/v1/agent/service/register`, {
      method: "PUT",
      body: JSON.stringify(body),
    });
  await register({ Name: "legacy", Address: "10.0.0.9", Port: 80 });
  await register({ Name: "exporter", Address: "10.0.0.8", Port: 80, Meta: { metrics_port: "9100" } });
  const self = (await (await fetch(`http://${cp.httpAddress}/v1/agent/self`)).json()) as {
    Config: { NodeName: string };
  };
  const res = await fetch(`http://${cp.httpAddress}/api/v1/sd/prometheus`);
  t.is(res.status, 200);
  t.deepEqual(await res.json(), [
    {
      targets: ["10.0.0.8:9100"],
      labels: {
        __meta_weft_service: "exporter",
        __meta_weft_source: "agent",
        __meta_weft_healthy: "true",
        service: "exporter",
        instance: "exporter",
        workload: "exporter",
        node: self.Config.NodeName,
      },
    },
    {
      targets: ["10.88.0.2:15090"],
      labels: {
        __meta_weft_service: "reviews",
        __meta_weft_source: "daemon:n1",
        __meta_weft_healthy: "true",
        service: "reviews",
        instance: "reviews-1",
        version: "v2",
        workload: "reviews-1",
        node: "n1",
      },
    },
  ]);
});
