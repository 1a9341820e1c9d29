// The Consul agent's services as the registry gets them, across a restart.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { SqliteRegistry } from "../registry/sqlite-registry";
import { openRegistryDatabase } from "../store/database";
import { parseAgentService } from "./agent-definition";
import { AgentSource } from "./agent-source";
import { AgentStore } from "./agent-store";

test("a stored service at an address sidecars cannot route is left out, not every other service with it", (t) => {
  // Registered before addresses were checked (an IPv6 one), or inside the VIP range after a
  // --service-cidr change: publishing it would make every sidecar refuse its endpoints, and a
  // refused sync would have left all of the agent's services unpublished.
  const dir = mkdtempSync(join(tmpdir(), "weft-agent-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openRegistryDatabase(dir);
  const store = new AgentStore(db);
  for (const [name, address] of [
    ["good", "10.88.0.5"],
    ["v6", "fd00::5"],
    ["in-vips", "10.96.0.9"],
  ] as const) {
    const parsed = parseAgentService({ Name: name, Port: 8080 });
    if (!parsed.ok) return t.fail(parsed.error);
    // As an older control plane stored it: the address was not checked then.
    store.save({ definition: { ...parsed.value, address }, results: {} });
  }
  const registry = new SqliteRegistry(db);
  const logs: string[] = [];
  const agent = new AgentSource(registry, store, { nodeName: "n1", log: (m) => logs.push(m) });
  t.teardown(() => agent.close());
  t.deepEqual(
    registry.listAllEndpoints().map((e) => `${e.service} ${e.address}`),
    ["good 10.88.0.5"],
  );
  t.true(
    logs.some((l) => /service "v6" is not published: address fd00::5 is an IPv6 address/.test(l)),
    logs.join("\n"),
  );
  t.true(
    logs.some((l) =>
      /service "in-vips" is not published: address 10\.96\.0\.9 is in the service range/.test(l),
    ),
  );
  t.false(
    logs.some((l) => /registry sync failed/.test(l)),
    logs.join("\n"),
  );
});
