import test from "ava";
import { NetworkError } from "./errors";
import { macForAddress } from "./netns";
import { contains, formatIpv4, isWorkloadAddress, parseIpv4, parseSubnet } from "./subnet";

test("a /16 yields its network, gateway and broadcast", (t) => {
  const s = parseSubnet("10.88.0.0/16");
  t.is(s.cidr, "10.88.0.0/16");
  t.is(formatIpv4(s.network), "10.88.0.0");
  t.is(formatIpv4(s.gateway), "10.88.0.1");
  t.is(formatIpv4(s.broadcast), "10.88.255.255");
  t.is(s.prefixLength, 16);
});

test("host bits are cleared so any address in the subnet names it", (t) => {
  t.is(parseSubnet("10.251.7.99/24").cidr, "10.251.7.0/24");
  t.is(parseSubnet("192.168.1.130/25").cidr, "192.168.1.128/25");
});

test("addresses above 128.0.0.0 stay positive", (t) => {
  const s = parseSubnet("192.168.0.0/30");
  t.is(formatIpv4(s.broadcast), "192.168.0.3");
  t.true(s.network > 0);
  t.is(formatIpv4(parseIpv4("255.255.255.255")!), "255.255.255.255");
});

test("only addresses between the gateway and the broadcast are for workloads", (t) => {
  const s = parseSubnet("10.0.0.0/30");
  t.deepEqual(
    [0, 1, 2, 3].map((i) => isWorkloadAddress(s, s.network + i)),
    [false, false, true, false],
  );
  t.true(contains(s, s.broadcast));
  t.false(contains(s, s.broadcast + 1));
});

for (const bad of [
  "10.88.0.0",
  "10.88.0/16",
  "10.88.0.256/16",
  "10.88.0.0/31",
  "10.88.0.0/0",
  "x/8",
  " /8",
]) {
  test(`"${bad}" is refused with INVALID_SUBNET`, (t) => {
    const err = t.throws(() => parseSubnet(bad), { instanceOf: NetworkError });
    t.is(err.code, "INVALID_SUBNET");
    t.true(err.message.includes(bad));
  });
}

test("malformed addresses do not parse", (t) => {
  for (const bad of ["1.2.3", "1.2.3.4.5", "1.2.3.-4", "01234.1.1.1", ""])
    t.is(parseIpv4(bad), undefined, bad);
});

test("a workload's MAC follows its address, so a reused address keeps its MAC", (t) => {
  t.is(macForAddress("10.88.0.2"), "02:42:0a:58:00:02");
  t.is(macForAddress("10.88.1.255"), "02:42:0a:58:01:ff");
});
