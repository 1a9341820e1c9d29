// `weft proxy-status` as a user runs it: the real CLI process against a real control plane with
// real config streams in SYNCED, REJECTED and NOT SENT states.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import test from "ava";
import { packageRoot } from "../../cli/index";
import { TYPE_ENDPOINTS, TYPE_SERVICE } from "../../proto/index";
import { openRawStream } from "./discovery/testing-stream";
import { opensslCsr, signCertificate } from "./grpc-testing";
import { startControlPlane } from "./server";

const run = promisify(execFile);
const WEFT = ["--import", "tsx", join(packageRoot(), "cli", "main.ts")];

test("weft proxy-status shows SYNCED, REJECTED with the reason and NOT SENT per type; --json has it all", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-ps-"));
  const cp = await startControlPlane({
    dataDir: join(dir, "data"),
    grpcPort: 0,
    httpPort: 0,
    grpcSocket: "",
    debounceMs: 10,
    log: () => {},
  });
  t.teardown(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  cp.registry.syncEndpoints(
    "daemon:n1",
    [
      {
        id: "c1",
        service: "reviews",
        address: "10.88.0.2",
        ports: [],
        labels: {},
        workload: "r",
        node: "n1",
        healthy: true,
      },
    ],
    [],
  );
  const good = openRawStream(cp.grpcAddress, { id: "productpage-1", service: "productpage" });
  const bad = openRawStream(cp.grpcAddress, { id: "ratings-1", service: "ratings" });
  t.teardown(() => {
    good.close();
    bad.close();
  });
  good.subscribe(TYPE_SERVICE);
  good.subscribe(TYPE_ENDPOINTS, ["reviews"]);
  good.ack(await good.waitFor((r) => r.type_url === TYPE_SERVICE));
  good.ack(await good.waitFor((r) => r.type_url === TYPE_ENDPOINTS), ["reviews"]);
  bad.subscribe(TYPE_SERVICE);
  bad.nack(await bad.waitFor(() => true), "", "services[0].name is not a DNS label");
  // productpage-1's sidecar asks the CA for its certificate; ratings-1 never does.
  await signCertificate(cp.grpcAddress, {
    node: { id: "productpage-1", service: "productpage" },
    csr_pem: opensslCsr(dir),
  });
  await new Promise((r) => setTimeout(r, 100));

  const { stdout } = await run(process.execPath, [
    ...WEFT,
    "proxy-status",
    "--control-plane",
    cp.httpAddress,
  ]);
  const lines = stdout.trim().split("\n");
  t.regex(lines[0]!, /^NAME\s+SERVICE\s+SERVICES\s+ENDPOINTS\s+ROUTES\s+POLICY\s+TELEMETRY\s+CERTIFICATE$/);
  t.regex(
    lines[1]!,
    /^productpage-1\s+productpage\s+SYNCED\s+SYNCED\s+NOT SENT\s+NOT SENT\s+NOT SENT\s+expires in 2[34]h$/,
  );
  t.regex(lines[2]!, /^ratings-1\s+ratings\s+REJECTED \(services\[0\]\.name is not a DNS label\)\s+NOT SENT/);
  t.regex(lines[2]!, /\s+none$/);

  const json = JSON.parse(
    (
      await run(process.execPath, [
        ...WEFT,
        "proxy-status",
        "ratings-1",
        "--json",
        "--control-plane",
        cp.httpAddress,
      ])
    ).stdout,
  ) as Array<{
    nodeId: string;
    types: Record<string, { status: string; nacks: number; lastError?: { nonce: string } }>;
  }>;
  t.is(json.length, 1);
  t.is(json[0]!.types[TYPE_SERVICE]!.status, "REJECTED");
  t.is(json[0]!.types[TYPE_SERVICE]!.nacks, 1);
  t.truthy(json[0]!.types[TYPE_SERVICE]!.lastError?.nonce);

  const missing = await run(process.execPath, [
    ...WEFT,
    "proxy-status",
    "nobody",
    "--control-plane",
    cp.httpAddress,
  ]).catch((e: { code: number; stderr: string }) => e);
  t.is((missing as { code: number }).code, 1);
  t.regex((missing as { stderr: string }).stderr, /no connected sidecar is named "nobody"/);
});

test("a restarted control plane still shows the certificate each sidecar holds, and forgets one another root signed", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-ps-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const start = async () => {
    const cp = await startControlPlane({
      dataDir: join(dir, "data"),
      grpcPort: 0,
      httpPort: 0,
      grpcSocket: "",
      log: () => {},
    });
    let open = true;
    const close = async () => {
      if (open) await cp.close();
      open = false;
    };
    t.teardown(close);
    return { cp, close };
  };
  // The sidecar keeps its certificate across the restart and reconnects under the same node id; it
  // asks for a new one only at half its life.
  const certificateOf = async ({ cp }: Awaited<ReturnType<typeof start>>) => {
    const stream = openRawStream(cp.grpcAddress, { id: "orders-1.abc", service: "orders" });
    try {
      stream.subscribe(TYPE_SERVICE);
      stream.ack(await stream.waitFor((r) => r.type_url === TYPE_SERVICE));
      const { stdout } = await run(process.execPath, [
        ...WEFT,
        "proxy-status",
        "orders-1.abc",
        "--json",
        "--control-plane",
        cp.httpAddress,
      ]);
      return (JSON.parse(stdout) as Array<{ certificate?: { identity: string; notAfter: string } }>)[0]
        ?.certificate;
    } finally {
      stream.close();
    }
  };

  const first = await start();
  await signCertificate(first.cp.grpcAddress, {
    node: { id: "orders-1.abc", service: "orders" },
    csr_pem: opensslCsr(dir),
  });
  const held = await certificateOf(first);
  t.is(held?.identity, "spiffe://weft.local/ns/default/svc/orders");
  await first.close();

  const second = await start();
  t.deepEqual(await certificateOf(second), held);
  await second.close();

  // A new root (the user put their own in DATA_DIR/ca): what the old one signed is not shown.
  rmSync(join(dir, "data", "ca"), { recursive: true });
  const third = await start();
  t.is(await certificateOf(third), undefined);
});
