// DNS (15053, udp and tcp): the app's port-53 traffic, redirected by iptables. Service names
// (NAME, NAME.weft, NAME.<search domain>, Consul's NAME.service.consul) get an A record with the service's virtual IP,
// and SRV records with its ports (Kubernetes' _PORT._tcp.NAME and Consul's forms); the rest
// is forwarded to --dns-upstream over the same transport (udp or tcp), SERVFAIL when it does not
// answer in time (the sidecar's uid is exempt from capture, so that is not captured again).
// The workload's netns cannot reach the host's 127.0.0.1 (a systemd-resolved stub, say): the daemon
// passes an address the netns can reach, e.g. the bridge gateway where it relays to the host's DNS.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, createServer, type Server, type Socket } from "node:net";
import dnsPacket from "dns-packet";
import type { ConfigStore } from "../config/store";
import type { ServiceConfig } from "../config/types";

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;
/** A UDP answer's limit without EDNS (RFC 1035 4.2.1), and the most an EDNS client's may raise it to
 * here: 1232 bytes, the DNS Flag Day 2020 size that fits an IPv6 packet without fragments. */
const UDP_PLAIN_LIMIT = 512;
const UDP_EDNS_LIMIT = 1232;
const TTL_SECONDS = 5;
/**
 * Consul's names for a service, for apps written against Consul DNS (the registry answers Consul's
 * HTTP API as datacenter dc1): NAME.virtual.consul is Consul's name for the service's virtual IP,
 * and NAME.service.consul, which Consul answers with the endpoints' addresses, gets the virtual IP
 * here too, so the request goes through the sidecar's load balancing, retries and telemetry.
 */
const CONSUL_SUFFIXES = ["service.consul", "service.dc1.consul", "virtual.consul"];

export interface DnsOptions {
  store: ConfigStore;
  /** "IP" or "IP:PORT" where other names go; without it they get NXDOMAIN. */
  upstream?: string;
  /** Suffixes stripped before looking a name up, e.g. ["svc.local"]. Default none. */
  searchDomains?: string[];
  /** Called with each mesh service a name resolves to: the app will likely connect soon (prefetch). */
  onServiceName?: (service: string) => void;
  /** How long to wait for the upstream. Default 2000 ms. */
  upstreamTimeoutMs?: number;
}

export class DnsResolver {
  constructor(private readonly options: DnsOptions) {}

  /**
   * The reply to one query message (wire bytes in, wire bytes out). Forwarded queries go upstream
   * over the transport they came on: a TCP query is usually a retry of a truncated UDP answer.
   */
  async answer(query: Buffer, transport: "udp" | "tcp" = "udp"): Promise<Buffer | undefined> {
    let packet: dnsPacket.DecodedPacket;
    try {
      packet = dnsPacket.decode(query);
    } catch {
      return undefined; // not DNS; nothing sensible to say
    }
    // A response sent here is nobody's question: answering it could start a loop between servers.
    if (packet.type === "response") return undefined;
    const own = (
      rcode: number,
      answers: dnsPacket.Answer[],
      authoritative = false,
      additionals: dnsPacket.Answer[] = [],
    ) => fitted(packet, transport, rcode, answers, authoritative, additionals);
    // NOTIFY, UPDATE and the rest: this server only answers questions (RFC 1035 4.1.1).
    if ((packet as { opcode?: string }).opcode !== "QUERY") return own(RCODE_NOTIMP, []);
    const question = packet.questions?.[0];
    if (!question) return own(RCODE_SERVFAIL, []);
    if (question.type === "SRV") {
      const srv = this.srv(question.name);
      if (srv) return own(0, srv.answers, true, srv.additionals);
    }
    const vip = this.lookup(question.name);
    if (vip !== undefined) {
      const answers: dnsPacket.Answer[] =
        question.type === "A" && vip ? [{ type: "A", name: question.name, ttl: TTL_SECONDS, data: vip }] : [];
      // A mesh name with no A data (AAAA, MX...) is NODATA, so resolvers fall back to A.
      return own(0, answers, true);
    }
    if (!this.options.upstream) return own(RCODE_NXDOMAIN, []);
    try {
      const forward = transport === "tcp" ? forwardTcp : forwardUdp;
      return await forward(query, this.options.upstream, this.options.upstreamTimeoutMs ?? 2000);
    } catch {
      return own(RCODE_SERVFAIL, []);
    }
  }

  /** The service VIP ("" when it has none) for a mesh name, undefined for other names. */
  lookup(name: string): string | undefined {
    return this.serviceOf(name)?.virtualIp;
  }

  /** The mesh service a name stands for (NAME, NAME.weft, NAME.<search domain>, Consul's). */
  private serviceOf(name: string): ServiceConfig | undefined {
    const lower = name.toLowerCase().replace(/\.$/, "");
    const candidates = [lower];
    for (const suffix of [...(this.options.searchDomains ?? []), "weft", ...CONSUL_SUFFIXES]) {
      for (const c of [...candidates])
        if (c.endsWith(`.${suffix}`)) candidates.push(c.slice(0, -suffix.length - 1));
    }
    for (const c of candidates) {
      const service = this.options.store.serviceForDns(c);
      if (service) {
        this.options.onServiceName?.(service.name);
        return service;
      }
    }
    return undefined;
  }

  /**
   * SRV records for a mesh service's ports, each pointing at a name of the service whose A record
   * is its virtual IP (in the additional section), as Kubernetes answers for a ClusterIP service:
   * the app learns the port, and its connection still goes through the sidecar.
   *   _PORTNAME._tcp.NAME (Kubernetes): the port of that name, else the ports of that protocol
   *     (a service implied by its endpoints names its ports "http-8080": _http._tcp finds it);
   *   _NAME._TAG.service[.dc1].consul (Consul, RFC 2782): every port (weft has no tags);
   *   NAME, NAME.service.consul, ... (Consul): every port.
   * Undefined for a name that is not the mesh's (it is forwarded as any other).
   */
  private srv(name: string): { answers: dnsPacket.Answer[]; additionals: dnsPacket.Answer[] } | undefined {
    const lower = name.toLowerCase().replace(/\.$/, "");
    const labels = lower.split(".");
    let service: ServiceConfig | undefined;
    let target = lower;
    let portName: string | undefined;
    let protocol = "_tcp";
    if (labels.length >= 3 && labels[0]?.startsWith("_") && labels[1]?.startsWith("_")) {
      protocol = labels[1];
      const rest = labels.slice(2).join(".");
      if (CONSUL_SUFFIXES.includes(rest) && rest !== "virtual.consul") {
        service = this.serviceOf(labels[0].slice(1));
        target = `${labels[0].slice(1)}.${rest}`;
        protocol = "_tcp"; // the second label is a Consul tag
      } else {
        service = this.serviceOf(rest);
        target = rest;
        portName = labels[0].slice(1);
      }
    } else service = this.serviceOf(lower);
    if (!service) return undefined;
    const ports = protocol === "_tcp" && service.virtualIp ? portsNamed(service, portName) : [];
    return {
      answers: ports.map((p) => ({
        type: "SRV",
        name,
        ttl: TTL_SECONDS,
        data: { priority: 1, weight: 1, port: p.port, target },
      })),
      additionals:
        ports.length > 0 ? [{ type: "A", name: target, ttl: TTL_SECONDS, data: service.virtualIp }] : [],
    };
  }
}

/** Every port (no name asked), the port of that name, else the ports serving that protocol. */
function portsNamed(service: ServiceConfig, name: string | undefined): ServiceConfig["ports"] {
  if (name === undefined) return service.ports;
  const named = service.ports.filter((p) => p.name.toLowerCase() === name);
  return named.length > 0 ? named : service.ports.filter((p) => p.protocol === name);
}

/** What a DNS server asks for each query: the reply's wire bytes, or undefined to say nothing. */
export interface DnsAnswerer {
  answer(query: Buffer, transport?: "udp" | "tcp"): Promise<Buffer | undefined>;
}

/**
 * Binds the resolver on udp and tcp (loopback by default: see sidecar.ts); the control plane's
 * Consul DNS interface serves its own answerer the same way.
 */
export async function startDnsServers(
  resolver: DnsAnswerer,
  port: number,
  host = "127.0.0.1",
): Promise<{ udp: UdpSocket; tcp: Server }> {
  if (port !== 0) return bindDnsServers(resolver, port, host);
  // Port 0: TCP takes the port UDP got, so that one address serves both (a TCP retry of a truncated
  // answer goes to the same port). Something may hold that port for TCP already: try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await bindDnsServers(resolver, 0, host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= 20) throw err;
    }
  }
}

async function bindDnsServers(
  resolver: DnsAnswerer,
  port: number,
  host: string,
): Promise<{ udp: UdpSocket; tcp: Server }> {
  const udp = createSocket({ type: "udp4" });
  udp.on("message", (msg, rinfo) => {
    resolver
      .answer(msg)
      .then(
        (out) => {
          // The socket may have closed while the upstream was asked (the sidecar stopping): send
          // would throw, and a throw here is an unhandled rejection that ends the process.
          if (out) udp.send(out, rinfo.port, rinfo.address, () => {});
        },
        () => {},
      )
      .catch(() => {});
  });
  udp.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind(port, host, () => resolve());
  });
  const tcp = createServer((socket) => serveTcp(resolver, socket));
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(udp.address().port, host, () => resolve());
  }).catch((err: unknown) => {
    udp.close(); // not left bound when its TCP half cannot be
    throw err;
  });
  return { udp, tcp };
}

/** DNS over TCP: each message is prefixed with its 2-byte length. */
function serveTcp(resolver: DnsAnswerer, socket: Socket): void {
  let buffered = Buffer.alloc(0);
  socket.setTimeout(10_000, () => socket.destroy());
  socket.on("error", () => {});
  socket.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (buffered.length < 2 + length) break;
      const message = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      resolver.answer(Buffer.from(message), "tcp").then(
        (out) => {
          if (!out || socket.destroyed) return;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(out.length);
          socket.write(Buffer.concat([prefix, out]));
        },
        // Unanswerable: the client sees the connection end and retries. Unhandled, the rejection
        // would have ended the sidecar, and every connection of the workload with it.
        () => socket.destroy(),
      );
    }
  });
}

/**
 * The sidecar's own answer. Over UDP it must fit the client's limit (512 bytes, or the EDNS size it
 * gave, up to UDP_EDNS_LIMIT): one that does not goes with the TC flag and no records, and the
 * client asks again over TCP (RFC 1035 4.2.1, RFC 7766), as for a service with many ports' SRV
 * records. A query with EDNS gets an OPT record back, saying this server's size.
 */
export function fitted(
  query: dnsPacket.DecodedPacket,
  transport: "udp" | "tcp",
  rcode: number,
  answers: dnsPacket.Answer[],
  authoritative: boolean,
  additionals: dnsPacket.Answer[],
): Buffer {
  const edns = query.additionals?.find((a) => a.type === "OPT") as { udpPayloadSize?: number } | undefined;
  const opt: dnsPacket.Answer[] = edns
    ? [{ type: "OPT", name: ".", udpPayloadSize: UDP_EDNS_LIMIT } as unknown as dnsPacket.Answer]
    : [];
  const full = reply(query, rcode, answers, authoritative, [...additionals, ...opt]);
  if (transport === "tcp") return full;
  const limit = edns
    ? Math.min(UDP_EDNS_LIMIT, Math.max(UDP_PLAIN_LIMIT, edns.udpPayloadSize ?? 0))
    : UDP_PLAIN_LIMIT;
  if (full.length <= limit) return full;
  return reply(query, rcode, [], authoritative, opt, dnsPacket.TRUNCATED_RESPONSE);
}

function reply(
  query: dnsPacket.DecodedPacket,
  rcode: number,
  answers: dnsPacket.Answer[],
  authoritative = false,
  additionals: dnsPacket.Answer[] = [],
  extraFlags = 0,
) {
  // The question's opcode goes back as it came (RFC 1035 4.1.1), with its recursion-desired bit.
  const echoed = (query.flags ?? 0) & (dnsPacket.RECURSION_DESIRED | 0x7800);
  const flags =
    echoed |
    dnsPacket.RECURSION_AVAILABLE |
    (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
    extraFlags |
    rcode;
  return dnsPacket.encode({
    type: "response",
    id: query.id ?? 0,
    flags,
    questions: query.questions ?? [],
    answers,
    additionals,
  });
}

function hostPort(upstream: string): [string, number] {
  const [host, portText] = upstream.includes(":") ? upstream.split(":") : [upstream, "53"];
  return [host as string, Number(portText)];
}

/** One query over TCP (2-byte length prefix both ways), on a connection of its own. */
function forwardTcp(query: Buffer, upstream: string, timeoutMs: number): Promise<Buffer> {
  const [host, port] = hostPort(upstream);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffered = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`upstream DNS ${upstream} did not answer over TCP in ${timeoutMs} ms`)),
    );
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`upstream DNS ${upstream} closed without an answer`)));
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      resolve(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      socket.destroy();
    });
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(query.length);
    socket.write(Buffer.concat([prefix, query]));
  });
}

function forwardUdp(query: Buffer, upstream: string, timeoutMs: number): Promise<Buffer> {
  const [host, port] = hostPort(upstream);
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(
      () => done(new Error(`upstream DNS ${upstream} did not answer in ${timeoutMs} ms`)),
      timeoutMs,
    );
    let finished = false;
    const done = (err?: Error, msg?: Buffer) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.close();
      if (err || !msg) reject(err);
      else resolve(msg);
    };
    socket.on("error", (err) => done(err));
    socket.on("message", (msg) => {
      // The id ties the answer to our question; anything else on this socket is not ours.
      if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) done(undefined, msg);
    });
    socket.send(query, port, host);
  });
}
