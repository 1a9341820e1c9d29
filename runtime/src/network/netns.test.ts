// Real kernel: needs root, iproute2, nsenter and busybox (for ping).
import { existsSync } from "node:fs";
import test, { type ExecutionContext } from "ava";
import { ensureBridge, linkExists, removeBridge } from "./bridge";
import { NetworkError } from "./errors";
import { run } from "./exec";
import {
  createWorkloadNetwork,
  destroyWorkloadNetwork,
  execInNetns,
  macForAddress,
  workloadNames,
} from "./netns";
import { freeTestSubnet, hex } from "./testing";

test("workload names follow the documented pattern and fit the kernel's limits", (t) => {
  t.deepEqual(workloadNames("0123456789abcdef0123"), {
    netns: "weft-0123456789ab",
    hostVeth: "wv0123456789",
  });
  t.is(t.throws(() => workloadNames("../x"), { instanceOf: NetworkError }).code, "INVALID_ID");
});

test("two workloads on one bridge reach each other; destroy removes netns and veth", async (t) => {
  const { ids, info, prefix } = await bridgeForTwo(t);
  const [a, b] = await Promise.all([
    createWorkloadNetwork({ id: ids[0]!, bridge: info, address: `${prefix}.10` }),
    createWorkloadNetwork({ id: ids[1]!, bridge: info, address: `${prefix}.11` }),
  ]);
  t.is(a!.netnsPath, `/var/run/netns/${workloadNames(ids[0]!).netns}`);
  t.is(a!.address, `${prefix}.10`);

  await t.notThrowsAsync(execInNetns(a!.netns, ["busybox", "ping", "-c1", "-W2", b!.address]));
  await t.notThrowsAsync(execInNetns(b!.netns, ["busybox", "ping", "-c1", "-W2", a!.address]));
  await t.notThrowsAsync(execInNetns(a!.netns, ["busybox", "ping", "-c1", "-W2", info.gateway]));

  const route = await execInNetns(a!.netns, ["ip", "-4", "route", "show", "default"]);
  t.regex(route.stdout, new RegExp(`default via ${info.gateway.replaceAll(".", "\\.")} dev eth0`));
  const lo = await execInNetns(a!.netns, ["ip", "-j", "link", "show", "dev", "lo"]);
  t.true((JSON.parse(lo.stdout) as Array<{ flags: string[] }>)[0]!.flags.includes("UP"));
  const eth0 = await execInNetns(a!.netns, ["ip", "-j", "addr", "show", "dev", "eth0"]);
  const e = (
    JSON.parse(eth0.stdout) as Array<{
      address: string;
      flags: string[];
      addr_info: Array<{ family: string; local: string; prefixlen: number }>;
    }>
  )[0]!;
  t.true(e.flags.includes("UP"));
  t.is(e.address, macForAddress(a!.address), "the MAC follows the address");
  t.deepEqual(
    e.addr_info.map((x) => `${x.family} ${x.local}/${x.prefixlen}`),
    [`inet ${a!.address}/${info.prefixLength}`],
  );
  const v6 = await execInNetns(a!.netns, ["cat", "/proc/sys/net/ipv6/conf/all/disable_ipv6"]);
  t.is(v6.stdout.trim(), "1");
  const v6addrs = await execInNetns(a!.netns, ["ip", "-6", "addr", "show"]);
  t.is(v6addrs.stdout.trim(), "");

  await destroyWorkloadNetwork(a!.netns, a!.hostVeth);
  t.false(existsSync(a!.netnsPath));
  t.false(await linkExists(a!.hostVeth));
  await t.notThrowsAsync(destroyWorkloadNetwork(a!.netns, a!.hostVeth)); // idempotent

  // Without the host veth name, deleting eth0 inside still removes the pair.
  await destroyWorkloadNetwork(b!.netns);
  t.false(existsSync(b!.netnsPath));
  t.false(await linkExists(b!.hostVeth));
});

test("a failed setup removes what it made and names the failing step", async (t) => {
  const id = `wt${hex(8)}`;
  const names = workloadNames(id);
  t.teardown(() => destroyWorkloadNetwork(names.netns, names.hostVeth));
  const missing = `wtm${hex(4)}`; // a bridge that does not exist
  const err = await t.throwsAsync(
    createWorkloadNetwork({
      id,
      bridge: { bridge: missing, subnet: "10.251.0.0/24", gateway: "10.251.0.1", prefixLength: 24 },
      address: "10.251.0.5",
    }),
    { instanceOf: NetworkError },
  );
  t.is(err.code, "NETWORK_SETUP_FAILED");
  t.regex(
    err.message,
    new RegExp(`^setting up the network of workload wt\\w+ failed: bridge ${missing}: No such device$`),
  );
  t.false(existsSync(`/var/run/netns/${names.netns}`));
  t.false(await linkExists(names.hostVeth));
});

test("an address outside the subnet or on the gateway is refused before anything is made", async (t) => {
  const bridge = { bridge: "wtnone", subnet: "10.251.0.0/24", gateway: "10.251.0.1", prefixLength: 24 };
  for (const address of ["10.251.1.5", "10.251.0.1", "10.251.0.255", "nonsense"]) {
    const err = await t.throwsAsync(createWorkloadNetwork({ id: `wt${hex(8)}`, bridge, address }), {
      instanceOf: NetworkError,
    });
    t.is(err.code, "INVALID_ADDRESS", address);
  }
});

test("execInNetns on a missing netns says so", async (t) => {
  const err = await t.throwsAsync(execInNetns(`wt${hex(6)}`, ["true"]), { instanceOf: NetworkError });
  t.is(err.code, "NETNS_NOT_FOUND");
});

test("a leftover host interface with the workload's veth name is refused and left alone", async (t) => {
  const id = `wt${hex(8)}`;
  const names = workloadNames(id);
  t.teardown(async () => {
    await run("ip", ["link", "del", "dev", names.hostVeth]).catch(() => undefined);
    await destroyWorkloadNetwork(names.netns);
  });
  // A veth pair: this kernel may have no dummy driver. Deleting one end in teardown removes both.
  await run("ip", ["link", "add", "name", names.hostVeth, "type", "veth", "peer", "name", `wtp${hex(4)}`]);
  const bridge = { bridge: "wtnone", subnet: "10.251.0.0/24", gateway: "10.251.0.1", prefixLength: 24 };
  const err = await t.throwsAsync(createWorkloadNetwork({ id, bridge, address: "10.251.0.5" }), {
    instanceOf: NetworkError,
  });
  t.is(err?.code, "NETWORK_SETUP_FAILED");
  t.regex(err?.message ?? "", new RegExp(`${names.hostVeth} already exists; remove the old workload first`));
  t.true(await linkExists(names.hostVeth), "the existing interface is not touched");
  t.false(existsSync(`/var/run/netns/${names.netns}`));
});

test("made in the daemon: ip lists it; a failure while wiring names the step and removes the netns and veth", async (t) => {
  const { ids, info, prefix } = await bridgeForTwo(t);

  const ok = await createWorkloadNetwork({ id: ids[0]!, bridge: info, address: `${prefix}.10` });
  // A namespace that `ip netns` lists and enters, as one it made itself.
  t.regex((await run("ip", ["netns", "list"])).stdout, new RegExp(`^${ok.netns}\\b`, "m"));
  t.true(await linkExists(ok.hostVeth));
  const route = await execInNetns(ok.netns, ["ip", "-4", "route", "show", "default"]);
  t.regex(route.stdout, /default via .* dev eth0/);

  // A gateway off the subnet: the veth is made, the default route inside cannot be added.
  const offLink = { ...info, gateway: "192.0.2.1" };
  const err = await t.throwsAsync(
    createWorkloadNetwork({ id: ids[1]!, bridge: offLink, address: `${prefix}.11` }),
    {
      instanceOf: NetworkError,
    },
  );
  t.is(err.code, "NETWORK_SETUP_FAILED");
  t.regex(err.message, /route add default via the gateway: Network is unreachable/);
  const names = workloadNames(ids[1]!);
  t.false(existsSync(`/var/run/netns/${names.netns}`), "the netns is removed");
  t.false(await linkExists(names.hostVeth), "the veth is removed");
});

/** A test bridge and two workload ids, all removed when the test ends (whatever was made of them). */
async function bridgeForTwo(t: ExecutionContext) {
  const bridge = `wtb${hex(4)}`;
  const ids = [`wt${hex(8)}`, `wt${hex(8)}`];
  t.teardown(async () => {
    for (const id of ids) {
      const n = workloadNames(id);
      await destroyWorkloadNetwork(n.netns, n.hostVeth);
    }
    await removeBridge(bridge);
  });
  const info = await ensureBridge({ bridge, subnet: await freeTestSubnet() });
  const prefix = info.gateway.slice(0, info.gateway.lastIndexOf("."));
  return { ids, info, prefix };
}
