// Real kernel: needs root, iproute2 and iptables.
import { readFileSync } from "node:fs";
import test from "ava";
import { ensureBridge, forwardRulesPresent, linkExists, removeBridge } from "./bridge";
import { NetworkError } from "./errors";
import { run } from "./exec";
import { freeTestSubnet, hex } from "./testing";

test("ensureBridge makes an up bridge with the gateway, forwarding and FORWARD rules, once", async (t) => {
  const bridge = `wtb${hex(4)}`;
  t.teardown(() => removeBridge(bridge));
  const subnet = await freeTestSubnet();
  const info = await ensureBridge({ bridge, subnet });
  const prefix = subnet.slice(0, subnet.lastIndexOf("."));
  t.deepEqual(info, { bridge, subnet, gateway: `${prefix}.1`, prefixLength: 24 });

  const { stdout } = await run("ip", ["-j", "-4", "addr", "show", "dev", bridge]);
  const [link] = JSON.parse(stdout) as Array<{
    flags: string[];
    addr_info: Array<{ local: string; prefixlen: number }>;
  }>;
  t.true(link!.flags.includes("UP"));
  t.deepEqual(
    link!.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
    [`${prefix}.1/24`],
  );
  t.is(readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim(), "1");
  t.is((await forwardRulesPresent(bridge)).length, 2);

  // A daemon restart calls it again: nothing is duplicated, concurrent calls included.
  await Promise.all([ensureBridge({ bridge, subnet }), ensureBridge({ bridge, subnet })]);
  t.is((await forwardRulesPresent(bridge)).length, 2);
  const again = JSON.parse((await run("ip", ["-j", "-4", "addr", "show", "dev", bridge])).stdout) as Array<{
    addr_info: unknown[];
  }>;
  t.is(again[0]!.addr_info.length, 1);

  await removeBridge(bridge);
  t.false(await linkExists(bridge));
  t.deepEqual(await forwardRulesPresent(bridge), []);
  await t.notThrowsAsync(removeBridge(bridge)); // idempotent
});

test("ensureBridge refuses an existing interface that is not a bridge", async (t) => {
  const name = `wtd${hex(4)}`;
  await run("ip", ["link", "add", "name", name, "type", "veth", "peer", "name", `${name}p`]);
  t.teardown(() => run("ip", ["link", "del", "dev", name]).catch(() => {}));
  const err = await t.throwsAsync(ensureBridge({ bridge: name, subnet: await freeTestSubnet() }), {
    instanceOf: NetworkError,
  });
  t.is(err.code, "NOT_A_BRIDGE");
  t.deepEqual(await forwardRulesPresent(name), []);
});

test("ensureBridge refuses a subnet that overlaps another interface's, and creates nothing", async (t) => {
  const [first, second] = [`wtb${hex(4)}`, `wtb${hex(4)}`];
  t.teardown(async () => {
    await removeBridge(first);
    await removeBridge(second);
  });
  const subnet = await freeTestSubnet();
  await ensureBridge({ bridge: first, subnet });
  const same = await t.throwsAsync(ensureBridge({ bridge: second, subnet }), { instanceOf: NetworkError });
  t.is(same.code, "SUBNET_IN_USE");
  t.true(
    same.message.includes(`overlaps ${subnet} routed via ${first}; choose another --subnet`),
    same.message,
  );
  // A larger subnet around it overlaps as much (other test files' bridges may be named instead).
  const [a, b, c] = subnet.split(".").map(Number);
  const wider = `${a}.${b}.${c! & ~1}.0/23`;
  const err = await t.throwsAsync(ensureBridge({ bridge: second, subnet: wider }), {
    instanceOf: NetworkError,
  });
  t.is(err.code, "SUBNET_IN_USE");
  // And so does a smaller one inside it: half of the first bridge's workloads would be cut off.
  const narrower = subnet.replace(/\/24$/, "/25");
  const inside = await t.throwsAsync(ensureBridge({ bridge: second, subnet: narrower }), {
    instanceOf: NetworkError,
  });
  t.is(inside.code, "SUBNET_IN_USE");
  t.false(await linkExists(second));
  // The first bridge's own route is no overlap: setting it up again (a daemon restart) works.
  await t.notThrowsAsync(ensureBridge({ bridge: first, subnet }));
});

test("bad bridge names and subnets fail before touching the host", async (t) => {
  const long = await t.throwsAsync(
    ensureBridge({ bridge: "a-name-that-is-too-long", subnet: "10.0.0.0/24" }),
    {
      instanceOf: NetworkError,
    },
  );
  t.is(long.code, "INVALID_NAME");
  const subnet = await t.throwsAsync(ensureBridge({ bridge: "wtok", subnet: "10.0.0.0" }), {
    instanceOf: NetworkError,
  });
  t.is(subnet.code, "INVALID_SUBNET");
});
