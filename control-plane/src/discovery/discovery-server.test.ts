// The push logic without a transport: a response not ACKed for more than 5 s turns STALE, and a
// stream whose buffer is full gets one merged update when it drains.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { TYPE_ENDPOINTS } from "../../../proto/index";
import { SqliteRegistry } from "../registry/sqlite-registry";
import { openRegistryDatabase } from "../store/database";
import { DiscoveryServer } from "./discovery-server";
import type { DiscoveryResponseOut } from "./wire";

function setup(t: import("ava").ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), "weft-ds-"));
  const registry = new SqliteRegistry(openRegistryDatabase(dir), { log: () => {} });
  const server = new DiscoveryServer(registry, { debounceMs: 5, log: () => {} });
  t.teardown(() => {
    server.close();
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const set = (address: string) =>
    registry.syncEndpoints(
      "d",
      [{ id: "a", service: "web", address, ports: [], labels: {}, workload: "w", node: "n", healthy: true }],
      [],
    );
  return { registry, server, set };
}

test("a response not ACKed within 5 s is STALE, with how long it has waited", (t) => {
  const { server, set } = setup(t);
  set("10.88.0.2");
  const sent: DiscoveryResponseOut[] = [];
  const c = server.connect((r) => sent.push(r) > 0);
  c.handle({
    node: { id: "slow", workload: "", service: "", address: "" },
    typeUrl: TYPE_ENDPOINTS,
    versionInfo: "",
    responseNonce: "",
    resourceNames: ["web"],
  });
  t.is(sent.length, 1);
  t.is(server.listProxies()[0]!.types[TYPE_ENDPOINTS]!.status, "SENT");
  const later = server.listProxies(Date.now() + 6000)[0]!.types[TYPE_ENDPOINTS]!;
  t.is(later.status, "STALE");
  t.regex(later.reason ?? "", /sent 6 s ago, not ACKed/);
  c.handle({
    typeUrl: TYPE_ENDPOINTS,
    versionInfo: sent[0]!.versionInfo,
    responseNonce: sent[0]!.nonce,
    resourceNames: ["web"],
  });
  t.is(server.listProxies(Date.now() + 6000)[0]!.types[TYPE_ENDPOINTS]!.status, "SYNCED");
});

test("a blocked stream keeps one merged update and sends it when the transport drains", async (t) => {
  const { server, set } = setup(t);
  set("10.88.0.2");
  const sent: DiscoveryResponseOut[] = [];
  let writable = false;
  const c = server.connect((r) => {
    sent.push(r);
    return writable;
  });
  c.handle({ typeUrl: TYPE_ENDPOINTS, versionInfo: "", responseNonce: "", resourceNames: ["web"] });
  t.is(sent.length, 1, "the first write fills the buffer");
  for (let i = 3; i < 10; i++) {
    set(`10.88.0.${i}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  t.is(sent.length, 1, "nothing more is written while blocked");
  t.is(server.listProxies()[0]!.types[TYPE_ENDPOINTS]!.status, "STALE");
  writable = true;
  c.drained();
  t.is(sent.length, 2, "one merged update");
  t.true(sent[1]!.incremental);
  const eps = sent[1]!.resources[0]!.wire.endpoints!.endpoints!;
  t.deepEqual(
    eps.map((e) => e.address),
    ["10.88.0.9"],
  );
});
