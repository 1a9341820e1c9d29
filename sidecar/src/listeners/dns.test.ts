import { createSocket } from "node:dgram";
import { Resolver } from "node:dns/promises";
import { type AddressInfo, connect, createServer } from "node:net";
import test from "ava";
import dnsPacket from "dns-packet";
import { ConfigStore } from "../config/store";
import { parseService } from "../config/validate";
import { DnsResolver, startDnsServers } from "./dns";

function storeWithWeb(): ConfigStore {
  const store = new ConfigStore();
  const web = parseService({ name: "web", virtual_ip: "10.96.0.10", ports: [{ port: 80 }] }, "s");
  store.applyServices({ resources: new Map([["web", web]]), removed: [], incremental: false }, "1");
  return store;
}

/** dns-packet decodes the response code as a name; its types do not say so. */
type Reply = dnsPacket.DecodedPacket & { rcode?: string };

/** Sends one query over UDP on loopback and decodes the reply. */
function query(port: number, name: string, type: "A" | "AAAA" | "SRV" = "A"): Promise<Reply> {
  const socket = createSocket("udp4");
  const id = Math.floor(Math.random() * 65535);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no DNS answer for ${name}`)), 3000);
    socket.on("message", (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(dnsPacket.decode(msg));
    });
    socket.send(
      dnsPacket.encode({
        type: "query",
        id,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type, name }],
      }),
      port,
      "127.0.0.1",
    );
  });
}

async function serve(t: import("ava").ExecutionContext, resolver: DnsResolver): Promise<number> {
  const { udp, tcp } = await startDnsServers(resolver, 0, "127.0.0.1");
  t.teardown(() => {
    udp.close();
    tcp.close();
  });
  return (udp.address() as AddressInfo).port;
}

test("service names answer with the virtual IP: NAME, NAME.weft, NAME.<search domain> and Consul's", async (t) => {
  const port = await serve(t, new DnsResolver({ store: storeWithWeb(), searchDomains: ["shop.local"] }));
  const consul = ["web.service.consul", "web.service.dc1.consul", "web.virtual.consul."];
  for (const name of ["web", "web.weft", "WEB.shop.local", "web.weft.shop.local", ...consul]) {
    const answer = await query(port, name);
    t.is(answer.rcode, "NOERROR", name);
    t.deepEqual(
      answer.answers?.map((a) => (a.type === "A" ? a.data : "")),
      ["10.96.0.10"],
      name,
    );
  }
  const aaaa = await query(port, "web", "AAAA");
  t.is(aaaa.rcode, "NOERROR");
  t.deepEqual(aaaa.answers, []);
});

test("other names are NXDOMAIN without an upstream", async (t) => {
  const port = await serve(t, new DnsResolver({ store: storeWithWeb() }));
  t.is((await query(port, "example.com")).rcode, "NXDOMAIN");
  t.is((await query(port, "nope.service.consul")).rcode, "NXDOMAIN");
});

test("other names are forwarded to the upstream, and SERVFAIL when it does not answer", async (t) => {
  // The upstream is a second resolver that knows "api"; it stands in for the host's DNS.
  const upstreamStore = new ConfigStore();
  const api = parseService({ name: "api", virtual_ip: "10.96.0.99", ports: [{ port: 80 }] }, "s");
  upstreamStore.applyServices({ resources: new Map([["api", api]]), removed: [], incremental: false }, "1");
  const upstreamPort = await serve(t, new DnsResolver({ store: upstreamStore }));
  const port = await serve(
    t,
    new DnsResolver({ store: storeWithWeb(), upstream: `127.0.0.1:${upstreamPort}` }),
  );
  const forwarded = await query(port, "api");
  t.is(forwarded.answers?.[0]?.type === "A" ? forwarded.answers[0].data : "", "10.96.0.99");

  const silent = createSocket("udp4");
  await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
  t.teardown(() => silent.close());
  const deadPort = await serve(
    t,
    new DnsResolver({
      store: storeWithWeb(),
      upstream: `127.0.0.1:${(silent.address() as AddressInfo).port}`,
      upstreamTimeoutMs: 200,
    }),
  );
  t.is((await query(deadPort, "example.com")).rcode, "SERVFAIL");
});

test("DNS over TCP answers length-prefixed queries", async (t) => {
  const { udp, tcp } = await startDnsServers(new DnsResolver({ store: storeWithWeb() }), 0, "127.0.0.1");
  t.teardown(() => {
    udp.close();
    tcp.close();
  });
  const port = (tcp.address() as AddressInfo).port;
  const message = dnsPacket.streamEncode({
    type: "query",
    id: 7,
    questions: [{ type: "A", name: "web.weft" }],
  });
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const c = connect(port, "127.0.0.1", () => c.write(message));
    let buffered = Buffer.alloc(0);
    c.on("data", (d) => {
      buffered = Buffer.concat([buffered, d]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        c.destroy();
        resolve(buffered);
      }
    });
    c.on("error", reject);
  });
  const decoded = dnsPacket.streamDecode(reply);
  t.is(decoded.id, 7);
  t.is(decoded.answers?.[0]?.type === "A" ? decoded.answers[0].data : "", "10.96.0.10");
});

test("a query the resolver fails on ends that TCP connection, not the sidecar", async (t) => {
  const failing = { answer: () => Promise.reject(new Error("cannot answer")) } as unknown as DnsResolver;
  const { udp, tcp } = await startDnsServers(failing, 0, "127.0.0.1");
  t.teardown(() => {
    udp.close();
    tcp.close();
  });
  const port = (tcp.address() as AddressInfo).port;
  const query = dnsPacket.streamEncode({
    type: "query",
    id: 9,
    questions: [{ type: "A", name: "web.weft" }],
  });
  // Without a handler the rejection was unhandled: ava fails the run on one, and a sidecar exits.
  const closed = await new Promise<boolean>((resolve) => {
    const c = connect(port, "127.0.0.1", () => c.write(query));
    c.on("error", () => undefined);
    c.on("close", () => resolve(true));
    setTimeout(() => {
      c.destroy();
      resolve(false);
    }, 3000);
  });
  t.true(closed, "the server closed the connection it could not answer");
});

test("a TCP query for a non-mesh name is forwarded upstream over TCP", async (t) => {
  // The upstream speaks TCP only: a UDP forward would time out and come back SERVFAIL.
  const upstream = createServer((socket) => {
    socket.on("data", (d: Buffer) => {
      const q = dnsPacket.decode(d.subarray(2));
      const out = dnsPacket.encode({
        type: "response",
        id: q.id ?? 0,
        questions: q.questions ?? [],
        answers: [{ type: "A", name: q.questions?.[0]?.name ?? "", ttl: 60, data: "192.0.2.7" }],
      });
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(out.length);
      socket.end(Buffer.concat([prefix, out]));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => upstream.close());
  const upstreamPort = (upstream.address() as AddressInfo).port;
  const { udp, tcp } = await startDnsServers(
    new DnsResolver({
      store: storeWithWeb(),
      upstream: `127.0.0.1:${upstreamPort}`,
      upstreamTimeoutMs: 2000,
    }),
    0,
    "127.0.0.1",
  );
  t.teardown(() => {
    udp.close();
    tcp.close();
  });
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const c = connect((tcp.address() as AddressInfo).port, "127.0.0.1", () =>
      c.write(
        dnsPacket.streamEncode({ type: "query", id: 9, questions: [{ type: "A", name: "example.org" }] }),
      ),
    );
    let buffered = Buffer.alloc(0);
    c.on("data", (d) => {
      buffered = Buffer.concat([buffered, d]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        c.destroy();
        resolve(buffered);
      }
    });
    c.on("error", reject);
  });
  const decoded = dnsPacket.streamDecode(reply);
  t.is(decoded.answers?.[0]?.type === "A" ? decoded.answers[0].data : "", "192.0.2.7");
});

/** Both servers on one free port (UDP's, tried for TCP until one is free for both). */
async function serveOnOnePort(t: import("ava").ExecutionContext, resolver: DnsResolver): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    try {
      const { udp, tcp } = await startDnsServers(resolver, port, "127.0.0.1");
      t.teardown(() => {
        udp.close();
        tcp.close();
      });
      return port;
    } catch (err) {
      if (attempt >= 20) throw err;
    }
  }
}

test("SRV: a service's ports, Kubernetes' and Consul's names, each pointing at a name of its virtual IP", async (t) => {
  const store = new ConfigStore();
  const web = parseService(
    {
      name: "web",
      virtual_ip: "10.96.0.10",
      ports: [
        { name: "http", port: 80 },
        { name: "grpc", port: 9090, protocol: "grpc" },
      ],
    },
    "s",
  );
  // A service implied by its endpoints: its ports are named after protocol and number.
  const api = parseService(
    { name: "api", virtual_ip: "10.96.0.11", ports: [{ name: "http-8080", port: 8080, protocol: "http" }] },
    "s",
  );
  store.applyServices(
    {
      resources: new Map([
        ["web", web],
        ["api", api],
      ]),
      removed: [],
      incremental: false,
    },
    "1",
  );
  const wanted: string[] = [];
  const port = await serve(t, new DnsResolver({ store, onServiceName: (s) => wanted.push(s) }));
  // c-ares (node:dns), a real resolver, reads the answers.
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const srv = async (name: string) =>
    (await resolver.resolveSrv(name)).sort((a, b) => a.port - b.port).map((r) => `${r.port} ${r.name}`);
  t.deepEqual(await srv("_http._tcp.web"), ["80 web"], "Kubernetes: the named port");
  t.deepEqual(await srv("_grpc._tcp.web.weft"), ["9090 web.weft"]);
  await t.throwsAsync(srv("_http2._tcp.web"), { code: "ENODATA" }, "no port of that name or protocol");
  t.deepEqual(await srv("_web._tcp.service.consul"), ["80 web.service.consul", "9090 web.service.consul"]);
  t.deepEqual(await srv("web.service.dc1.consul"), [
    "80 web.service.dc1.consul",
    "9090 web.service.dc1.consul",
  ]);
  t.deepEqual(await srv("web"), ["80 web", "9090 web"]);
  t.deepEqual(await srv("_http._tcp.api"), ["8080 api"], "no port named http: the ports of that protocol");
  t.deepEqual(await resolver.resolve4("web.service.dc1.consul"), ["10.96.0.10"], "the target resolves");
  t.true(wanted.includes("web"), "the sidecar subscribes to what the app looks up");

  // The additional section carries the target's A record, so one query is enough.
  const full = await query(port, "_http._tcp.web", "SRV");
  t.deepEqual(
    full.additionals?.map((a) => `${a.type} ${a.name} ${a.type === "A" ? a.data : ""}`),
    ["A web 10.96.0.10"],
  );
  // A port the service does not have, or UDP: the name exists, with no such data.
  for (const name of ["_admin._tcp.web", "_http._udp.web"]) {
    const none = await query(port, name, "SRV");
    t.is(none.rcode, "NOERROR", name);
    t.deepEqual(none.answers, [], name);
  }
  t.is((await query(port, "_http._tcp.elsewhere.example", "SRV")).rcode, "NXDOMAIN", "not the mesh's");
});

test("an answer too big for UDP goes truncated, and c-ares gets it whole over TCP; EDNS raises the limit", async (t) => {
  // 40 ports: their SRV records are about 2.8 KB, over 512 bytes and over any EDNS size here.
  const store = new ConfigStore();
  const many = parseService(
    {
      name: "many-ports",
      virtual_ip: "10.96.0.12",
      ports: Array.from({ length: 40 }, (_, i) => ({ name: `p${i}`, port: 8000 + i })),
    },
    "s",
  );
  const few = parseService(
    {
      name: "few-ports",
      virtual_ip: "10.96.0.13",
      ports: Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, port: 9000 + i })),
    },
    "s",
  );
  store.applyServices(
    {
      resources: new Map([
        ["many-ports", many],
        ["few-ports", few],
      ]),
      removed: [],
      incremental: false,
    },
    "1",
  );
  const resolver = new DnsResolver({ store });
  const ask = async (name: string, transport: "udp" | "tcp", payload?: number) =>
    dnsPacket.decode(
      (await resolver.answer(
        dnsPacket.encode({
          type: "query",
          id: 9,
          flags: dnsPacket.RECURSION_DESIRED,
          questions: [{ type: "SRV", name }],
          additionals:
            payload === undefined
              ? []
              : [{ type: "OPT", name: ".", udpPayloadSize: payload } as unknown as dnsPacket.Answer],
        }),
        transport,
      )) as Buffer,
    ) as Reply & { flag_tc?: boolean };
  const udp = await ask("many-ports.weft", "udp");
  t.true(udp.flag_tc, "the TC flag tells the client to ask over TCP");
  t.deepEqual(udp.answers, []);
  t.is(udp.rcode, "NOERROR");
  const tcp = await ask("many-ports.weft", "tcp");
  t.false(tcp.flag_tc);
  t.is(tcp.answers?.length, 40);
  // 20 ports: about 820 bytes, over 512 but within an EDNS client's 1232.
  t.true((await ask("few-ports", "udp")).flag_tc);
  const edns = await ask("few-ports", "udp", 4096);
  t.false(edns.flag_tc);
  t.is(edns.answers?.length, 20);
  t.true(
    edns.additionals?.some((a) => a.type === "OPT"),
    "an EDNS question gets an OPT record back",
  );
  // A real resolver (c-ares, node:dns) falls back to TCP on the same port on its own, and gets
  // every record: the servers need one port for both, as the sidecar's 15053 is.
  const port = await serveOnOnePort(t, resolver);
  const cares = new Resolver({ timeout: 2000, tries: 1 });
  cares.setServers([`127.0.0.1:${port}`]);
  t.is((await cares.resolveSrv("many-ports")).length, 40);
});

test("a response sent to the resolver gets no answer, and an opcode other than QUERY gets NOTIMP", async (t) => {
  const resolver = new DnsResolver({ store: storeWithWeb() });
  const response = dnsPacket.encode({ type: "response", id: 3, questions: [{ type: "A", name: "web" }] });
  t.is(await resolver.answer(response), undefined);
  const notify = dnsPacket.encode({ type: "query", id: 4, questions: [{ type: "SOA", name: "web" }] });
  notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2); // opcode 4: NOTIFY
  const r = dnsPacket.decode((await resolver.answer(notify)) as Buffer) as Reply & { opcode?: string };
  t.is(r.rcode, "NOTIMP");
  t.is(r.opcode, "NOTIFY", "the opcode comes back as it was sent");
  t.is(r.id, 4);
});

test("a service registered with capitals answers whatever the case asked (DNS names are case-insensitive)", async (t) => {
  // A Consul client registers the name its app has ("PaymentService"); resolvers ask in any case,
  // and some randomize it ("dns-0x20"). The lower-cased lookup found nothing: NXDOMAIN.
  const store = new ConfigStore();
  const resources = new Map(
    [
      { name: "PaymentService", virtual_ip: "10.96.0.20", ports: [{ name: "http", port: 8080 }] },
      // Two names that differ only in case: the lower-case one answers for both.
      { name: "WEB", virtual_ip: "10.96.0.21", ports: [{ port: 80 }] },
      { name: "web", virtual_ip: "10.96.0.22", ports: [{ port: 80 }] },
    ].map((s) => [s.name, parseService(s, "s")]),
  );
  store.applyServices({ resources, removed: [], incremental: false }, "1");
  const wanted: string[] = [];
  const port = await serve(t, new DnsResolver({ store, onServiceName: (s) => wanted.push(s) }));
  const a = async (name: string) => {
    const r = await query(port, name);
    return r.answers?.[0]?.type === "A" ? r.answers[0].data : r.rcode;
  };
  for (const name of [
    "paymentservice",
    "PaymentService",
    "pAyMeNtSeRvIcE.weft",
    "PAYMENTSERVICE.service.consul",
  ])
    t.is(await a(name), "10.96.0.20", name);
  t.is(await a("Web"), "10.96.0.22");
  t.is(await a("web"), "10.96.0.22");
  t.true(wanted.includes("PaymentService"), "the sidecar subscribes under the registered name");
  const srv = await query(port, "_http._tcp.paymentservice", "SRV");
  t.deepEqual(
    srv.answers?.map((r) => (r.type === "SRV" ? r.data.port : 0)),
    [8080],
  );
});

test("port 0 serves UDP and TCP on one port, even where TCP already holds many ports", async (t) => {
  // Tests run side by side with thousands of TCP sockets: the port UDP is given may be taken for TCP.
  const held = await Promise.all(
    Array.from({ length: 1000 }, async () => {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
      return s;
    }),
  );
  t.teardown(() => {
    for (const s of held) s.close();
  });
  const resolver = new DnsResolver({ store: storeWithWeb() });
  for (let i = 0; i < 300; i++) {
    const { udp, tcp } = await startDnsServers(resolver, 0, "127.0.0.1");
    t.is((tcp.address() as AddressInfo).port, udp.address().port);
    udp.close();
    await new Promise<void>((r) => tcp.close(() => r()));
  }
});
