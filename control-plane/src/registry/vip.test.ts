import test from "ava";
import { allocateVirtualIp, parseCidr } from "./vip";

test("allocation takes the lowest free address and never a .0 or .1", (t) => {
  const range = parseCidr("10.96.0.0/16");
  t.is(allocateVirtualIp(range, new Set()), "10.96.0.2");
  t.is(allocateVirtualIp(range, new Set(["10.96.0.2"])), "10.96.0.3");
  const full = new Set(Array.from({ length: 254 }, (_, i) => `10.96.0.${i + 2}`));
  t.is(allocateVirtualIp(range, full), "10.96.1.2");
});

test("a CIDR with host bits is normalised; bad ones name the flag", (t) => {
  t.deepEqual(parseCidr("10.96.3.7/16"), {
    network: parseCidr("10.96.0.0/16").network,
    prefixLength: 16,
    size: 65536,
  });
  for (const bad of ["10.96.0.0", "10.96.0/16", "10.96.0.0/33", "300.1.1.1/16", "x/16"]) {
    t.throws(() => parseCidr(bad), { message: /--service-cidr/ }, bad);
  }
});
