// Starts a sidecar on loopback for unit tests: every port picked by the OS, a fake control plane,
// and a seam in place of SO_ORIGINAL_DST (the test says where each connection "was going").
import type { ExecutionContext } from "ava";
import type { WireEndpoint, WireService } from "../../../proto/index";
import type { Destination } from "../listeners/original-dst";
import type { SidecarOptions } from "../options";
import { type RunningSidecar, type SidecarSeams, startSidecar } from "../sidecar";
import { type FakeControlPlane, startFakeControlPlane } from "./wire-fake-control-plane";

export interface Harness {
  sidecar: RunningSidecar;
  cp: FakeControlPlane;
  /** The original destination the next accepted connections report. */
  destination: Destination | undefined;
  /** Pushes services and endpoints and waits until the sidecar has accepted both. */
  configure(services: WireService[], endpoints: Record<string, WireEndpoint[]>): Promise<void>;
  /** Resolves once the sidecar is ready (config accepted, tracing and access logging loaded), as
   * the runtime waits before it starts the app: requests before that go untraced. */
  whenReady(): Promise<void>;
  logs: string[];
}

let version = 0;

export async function startHarness(
  t: ExecutionContext,
  overrides: Partial<SidecarOptions> = {},
  seams: SidecarSeams = {},
): Promise<Harness> {
  const cp = await startFakeControlPlane("127.0.0.1:0", { keepTelemetry: true });
  const logs: string[] = [];
  const harness = { cp, logs, destination: undefined } as unknown as Harness;
  const sidecar = await startSidecar(
    {
      controlPlane: cp.target,
      nodeId: "test",
      workload: "shop",
      address: "10.88.0.2",
      service: "shop",
      ports: new Map(),
      labels: {},
      dnsSearch: [],
      listen: { outbound: 0, inbound: 0, admin: 0, health: 0, metrics: 0, dns: 0 },
      ...overrides,
    },
    { originalDst: () => harness.destination, listenHost: "127.0.0.1", log: (m) => logs.push(m), ...seams },
  );
  harness.sidecar = sidecar;
  harness.configure = async (services, endpoints) => {
    version++;
    const n1 = cp.pushServices(services, `s${version}`);
    const n2 = cp.pushEndpoints(endpoints, `e${version}`);
    await cp.waitFor((r) => r.response_nonce === n1);
    await cp.waitFor((r) => r.response_nonce === n2);
  };
  harness.whenReady = async () => {
    for (let i = 0; !sidecar.ready; i++) {
      if (i >= 1000) throw new Error("the sidecar was not ready within 10 s");
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  t.teardown(async () => {
    await sidecar.drain(0);
    await cp.close();
  });
  await cp.waitFor((r) => r.type_url === "weft.v1.ServiceEndpoints");
  return harness;
}
