// Consul's DNS interface (port 8600 on loopback, UDP and TCP), answered from the registry, so that
// `dig @127.0.0.1 -p 8600 web.service.consul` and Consul-aware tools on the host find services
// as they would with a Consul agent:
//   [TAG.]NAME.service[.dc1].consul   A: the addresses of instances without a critical check
//                                     (shuffled); SRV: their ports, weighted by Weights, each target
//                                     an .addr name with its A record beside it (TAG any case)
//   _NAME._TAG.service[.dc1].consul   SRV, RFC 2782 form ("_tcp" as the tag means any)
//   NAME.virtual[.dc1].consul         A: the service's virtual IP (the mesh's stable address)
//   HEX.addr[.dc1].consul             A: the address the hex spells (SRV targets)
// A service whose every instance has a critical check is NXDOMAIN, as in Consul; a name outside .consul is REFUSED
// (this is no recursor). Over UDP, at most 3 instances are answered, Consul's default
// udp_answer_limit; TCP answers them all. TTL 0, Consul's default for services.
// (Workloads do not need this: their sidecar answers NAME.service.consul with the virtual IP.)
import { isIPv4, isIPv6 } from "node:net";
import dnsPacket from "dns-packet";
import { fittedDnsReply } from "../../../sidecar/src/index";
import type { Endpoint, ServiceRegistry } from "../registry/types";
import { type ConsulExtras, DATACENTER, instanceStatus, instances, portOf } from "./consul";

const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;
const RCODE_REFUSED = 5;
/** Consul's dns_config.udp_answer_limit default. */
export const UDP_ANSWER_LIMIT = 3;

type Answer = dnsPacket.Answer;

export class ConsulDnsResolver {
  constructor(
    private readonly registry: ServiceRegistry,
    private readonly extras: ConsulExtras,
  ) {}

  async answer(query: Buffer, transport: "udp" | "tcp" = "udp"): Promise<Buffer | undefined> {
    let packet: dnsPacket.DecodedPacket;
    try {
      packet = dnsPacket.decode(query);
    } catch {
      return undefined; // not DNS
    }
    if (packet.type === "response") return undefined;
    const reply = (rcode: number, answers: Answer[] = [], additionals: Answer[] = []) =>
      fittedDnsReply(packet, transport, rcode, answers, true, additionals);
    if ((packet as { opcode?: string }).opcode !== "QUERY") return reply(RCODE_NOTIMP);
    const question = packet.questions?.[0];
    if (!question) return reply(RCODE_REFUSED);
    const name = question.name.toLowerCase().replace(/\.$/, "");
    const labels = name.split(".");
    if (labels.at(-1) !== "consul") return reply(RCODE_REFUSED);
    // Drop "consul" and an optional "dc1": what is left ends in the lookup's kind.
    const rest = labels.slice(0, -1);
    if (rest.at(-1) === DATACENTER) rest.pop();
    const kind = rest.pop();
    // ANY (type 255, which dns-packet's types leave out) gets the A records, as Consul answers it.
    const wantsA = question.type === "A" || (question.type as string) === "ANY";
    if (kind === "addr" && rest.length === 1) {
      const address = addressOfHex(rest[0] as string);
      if (!address) return reply(RCODE_NXDOMAIN);
      return reply(0, wantsA ? [a(question.name, address)] : []);
    }
    if (kind === "virtual" && rest.length === 1) {
      const service = this.registry.serviceNamesIgnoringCase(rest[0] as string)[0];
      const vip = service === undefined ? undefined : this.registry.getService(service)?.virtualIp;
      if (!vip) return reply(RCODE_NXDOMAIN);
      return reply(0, wantsA ? [a(question.name, vip)] : []);
    }
    if (kind !== "service" || rest.length < 1 || rest.length > 2) return reply(RCODE_NXDOMAIN);
    const [service, tag] = serviceAndTag(rest);
    // Every instance without a critical check, as Consul's DNS answers by default (only_passing
    // false): one whose checks warn is still answered, with its Weights.Warning as SRV weight. (The
    // sidecars route only to healthy endpoints, all checks passing; that is the registry's own view.)
    // None (or no such service, or tag) is NXDOMAIN, as Consul answers (consul#1142): a resolver must
    // not cache an empty answer for a name that will have addresses again.
    const all = instances(this.registry, service, tag === undefined ? [] : [tag], this.extras)
      .map((e) => ({ e, status: instanceStatus(e, this.extras) }))
      .filter(({ status }) => status !== "critical");
    if (all.length === 0) return reply(RCODE_NXDOMAIN);
    // IPv4 instances answer A and SRV; IPv6 ones answer AAAA.
    const family = question.type === "AAAA" ? isIPv6 : isIPv4;
    const alive = shuffled(all.filter(({ e }) => family(e.address)));
    const answered = transport === "udp" ? alive.slice(0, UDP_ANSWER_LIMIT) : alive;
    if (question.type === "AAAA") {
      return reply(
        0,
        answered.map(({ e }): Answer => ({ type: "AAAA", name: question.name, ttl: 0, data: e.address })),
      );
    }
    if (question.type === "SRV") {
      const answers = answered.map(({ e, status }): Answer => {
        const weights = this.extras.service?.(e)?.Weights ?? { Passing: 1, Warning: 1 };
        const weight = status === "warning" ? weights.Warning : weights.Passing;
        return {
          type: "SRV",
          name: question.name,
          ttl: 0,
          data: { priority: 1, weight, port: portOf(this.registry, e), target: targetOf(e) },
        };
      });
      return reply(
        0,
        answers,
        answered.map(({ e }) => a(targetOf(e), e.address)),
      );
    }
    return reply(0, wantsA ? answered.map(({ e }) => a(question.name, e.address)) : []);
  }
}

/** A copy in random order (Fisher-Yates): DNS clients take the first address, so load spreads. */
function shuffled<T>(list: T[]): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** [NAME, TAG]: "web" or "primary.web", and RFC 2782's "_web._primary" (where "_tcp" is no tag). */
function serviceAndTag(rest: string[]): [string, string | undefined] {
  if (rest.length === 2 && rest[0]?.startsWith("_") && rest[1]?.startsWith("_")) {
    const tag = rest[1].slice(1);
    return [rest[0].slice(1), tag === "tcp" ? undefined : tag];
  }
  return rest.length === 2 ? [rest[1] as string, rest[0]] : [rest[0] as string, undefined];
}

function a(name: string, address: string): Answer {
  return { type: "A", name, ttl: 0, data: address };
}

/** Consul's name for an address in SRV targets: 10.88.0.2 is 0a580002.addr.dc1.consul. */
function targetOf(e: Endpoint): string {
  const hex = e.address
    .split(".")
    .map((octet: string) => Number(octet).toString(16).padStart(2, "0"))
    .join("");
  return `${hex}.addr.${DATACENTER}.consul`;
}

function addressOfHex(hex: string): string | undefined {
  if (!/^[0-9a-f]{8}$/.test(hex)) return undefined;
  return [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join(".");
}
