// Consul's DNS interface as Consul tools use it: Node's own resolver (c-ares, as dig would) against a
// real control plane, over UDP and TCP, with endpoints synced as a daemon syncs them and a service
// registered through the Consul agent API.
import { Resolver } from "node:dns/promises";
import { connect } from "node:net";
import test, { type ExecutionContext } from "ava";
import dnsPacket from "dns-packet";
import { syncEndpoints } from "../grpc-testing";
import { callApi, startTestControlPlane, type TestControlPlane } from "../test-support";
import { UDP_ANSWER_LIMIT } from "./consul-dns";

function resolverFor(address: string): Resolver {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([address]);
  return r;
}

/** One query over TCP (2-byte length prefix), the reply decoded. */
function overTcp(address: string, name: string, type: "A" | "SRV"): Promise<dnsPacket.DecodedPacket> {
  const [host, port] = address.split(":");
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) });
    const query = dnsPacket.encode({ type: "query", id: 7, questions: [{ type, name }] });
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(query.length);
    socket.write(Buffer.concat([prefix, query]));
    let got = Buffer.alloc(0);
    socket.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        socket.destroy();
        resolve(dnsPacket.decode(got.subarray(2)));
      }
    });
    socket.on("error", reject);
  });
}

const web = (i: number, healthy = true) => ({
  id: `w${i}`,
  service: "web",
  address: `10.88.0.${10 + i}`,
  ports: [{ port: 8080, protocol: "http" }],
  healthy,
});

test("NAME.service.consul answers the healthy instances, SRV their ports, NAME.virtual.consul the VIP", async (t) => {
  const cp = await startTestControlPlane(t, undefined, { dnsPort: 0 });
  t.regex(cp.dnsAddress, /^127\.0\.0\.1:\d+$/);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [web(1), web(2), web(3, false)],
  });
  const dns = resolverFor(cp.dnsAddress);

  t.deepEqual((await dns.resolve4("web.service.consul")).sort(), ["10.88.0.11", "10.88.0.12"]);
  t.deepEqual((await dns.resolve4("WEB.service.dc1.consul")).sort(), ["10.88.0.11", "10.88.0.12"]);
  const srv = await dns.resolveSrv("web.service.consul");
  t.deepEqual(srv.map((r) => [r.name, r.port]).sort(), [
    ["0a58000b.addr.dc1.consul", 8080],
    ["0a58000c.addr.dc1.consul", 8080],
  ]);
  t.deepEqual(await dns.resolve4("0a58000b.addr.dc1.consul"), ["10.88.0.11"]);
  t.is((await dns.resolveSrv("_web._tcp.service.consul")).length, 2, "RFC 2782's form");
  const vip = cp.registry.getService("web")?.virtualIp;
  t.truthy(vip);
  t.deepEqual(await dns.resolve4("web.virtual.consul"), [vip]);

  // Unknown names, and a service with no healthy instance, are NXDOMAIN (Consul's answer); other
  // domains are refused, not resolved (this is no recursor).
  await t.throwsAsync(dns.resolve4("nope.service.consul"), { code: "ENOTFOUND" });
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n2",
    endpoints: [{ ...web(9, false), service: "down" }],
  });
  await t.throwsAsync(dns.resolve4("down.service.consul"), { code: "ENOTFOUND" });
  await t.throwsAsync(
    dns.resolve6("web.service.consul"),
    { code: "ENODATA" },
    "instances, none IPv6: NODATA",
  );
  await t.throwsAsync(dns.resolve4("example.com"), { code: "EREFUSED" });

  // A tag from the agent API narrows the answer, as TAG.NAME.service.consul does in Consul.
  const reg = await callApi(cp, "PUT", "/v1/agent/service/register", {
    Name: "db",
    ID: "db-1",
    Address: "10.88.0.50",
    Port: 5432,
    Tags: ["primary"],
  });
  t.is(reg.status, 200);
  await callApi(cp, "PUT", "/v1/agent/service/register", {
    Name: "db",
    ID: "db-2",
    Address: "10.88.0.51",
    Port: 5432,
    Tags: ["replica"],
  });
  t.deepEqual(await dns.resolve4("primary.db.service.consul"), ["10.88.0.50"]);
  t.deepEqual((await dns.resolve4("db.service.consul")).sort(), ["10.88.0.50", "10.88.0.51"]);
  t.deepEqual(await dns.resolve4("_db._replica.service.consul"), ["10.88.0.51"]);

  // Over UDP at most UDP_ANSWER_LIMIT instances (Consul's default), shuffled; TCP answers all.
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [1, 2, 3, 4, 5, 6].map((i) => web(i)),
  });
  t.is((await dns.resolve4("web.service.consul")).length, UDP_ANSWER_LIMIT);
  const tcp = await overTcp(cp.dnsAddress, "web.service.consul", "A");
  t.is(tcp.answers?.length, 6);
  t.is((tcp as { rcode?: string }).rcode, "NOERROR");
});

/** Three instances of "dnsweigh" through the agent API, Weights {10, 1}: passing (tag "Canary"),
 * warning and critical (tag "stable"). */
async function weighedInstances(t: ExecutionContext, cp: TestControlPlane): Promise<void> {
  const register = async (id: string, address: string, tags: string[]) => {
    const res = await callApi(cp, "PUT", "/v1/agent/service/register", {
      Name: "dnsweigh",
      ID: id,
      Address: address,
      Port: 7100,
      Tags: tags,
      Weights: { Passing: 10, Warning: 1 },
      Check: { CheckID: `${id}-ttl`, TTL: "60s" },
    });
    t.is(res.status, 200);
  };
  await register("dnsweigh-1", "192.0.2.61", ["Canary"]);
  await register("dnsweigh-2", "192.0.2.62", ["stable"]);
  await register("dnsweigh-3", "192.0.2.63", ["stable"]);
  for (const [check, verb] of [
    ["dnsweigh-1-ttl", "pass"],
    ["dnsweigh-2-ttl", "warn"],
    ["dnsweigh-3-ttl", "fail"],
  ])
    t.is((await callApi(cp, "PUT", `/v1/agent/check/${verb}/${check}`)).status, 200);
}

test("DNS answers instances whose checks warn, not critical ones, with their Weights as SRV weights", async (t) => {
  const cp = await startTestControlPlane(t, undefined, { dnsPort: 0 });
  const dns = resolverFor(cp.dnsAddress);
  await weighedInstances(t, cp);
  // Consul's default (only_passing = false): warning answered, critical left out.
  t.deepEqual((await dns.resolve4("dnsweigh.service.consul")).sort(), ["192.0.2.61", "192.0.2.62"]);
  const srv = await dns.resolveSrv("dnsweigh.service.consul");
  t.deepEqual(srv.map((r) => [r.name, r.weight, r.port]).sort(), [
    ["c000023d.addr.dc1.consul", 10, 7100],
    ["c000023e.addr.dc1.consul", 1, 7100],
  ]);
  // The sidecars keep routing to passing instances only.
  t.deepEqual(
    cp.registry
      .listEndpoints("dnsweigh")
      .filter((e) => e.healthy)
      .map((e) => e.id),
    ["dnsweigh-1"],
  );
});

test("tags match whatever their case, in DNS and in ?tag=, as Consul's (strings.EqualFold)", async (t) => {
  const cp = await startTestControlPlane(t, undefined, { dnsPort: 0 });
  const dns = resolverFor(cp.dnsAddress);
  await weighedInstances(t, cp);
  // The question is lower-cased on the way in; the tag was registered "Canary".
  t.deepEqual(await dns.resolve4("canary.dnsweigh.service.consul"), ["192.0.2.61"]);
  t.deepEqual(await dns.resolve4("CANARY.dnsweigh.service.consul"), ["192.0.2.61"]);
  t.deepEqual(await dns.resolve4("_dnsweigh._Canary.service.consul"), ["192.0.2.61"]);
  const ids = async (path: string) =>
    ((await callApi(cp, "GET", path)).body as Array<{ ServiceID?: string; Service?: { ID: string } }>)
      .map((e) => e.ServiceID ?? e.Service?.ID)
      .sort();
  t.deepEqual(await ids("/v1/catalog/service/dnsweigh?tag=canary"), ["dnsweigh-1"]);
  t.deepEqual(await ids("/v1/health/service/dnsweigh?tag=CANARY"), ["dnsweigh-1"]);
  t.deepEqual(await ids("/v1/catalog/service/dnsweigh?tag=STABLE"), ["dnsweigh-2", "dnsweigh-3"]);
});

test("a taken DNS port fails naming it, or with dnsPortBusy=skip the control plane runs without it", async (t) => {
  const first = await startTestControlPlane(t, undefined, { dnsPort: 0 });
  const port = Number(first.dnsAddress.split(":")[1]);
  const err = await t.throwsAsync(startTestControlPlane(t, undefined, { dnsPort: port }));
  t.regex(
    String(err?.message),
    new RegExp(`cannot serve Consul DNS on 127\\.0\\.0\\.1:${port}: the port is in use`),
  );
  const second = await startTestControlPlane(t, undefined, { dnsPort: port, dnsPortBusy: "skip" });
  t.is(second.dnsAddress, "");
  t.true(second.logs.some((l) => /running without it$/.test(l)));
});
