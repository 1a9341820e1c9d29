// Real kernel: needs root, iptables (nf_tables) and nsenter.
import test from "ava";
import { NetworkError } from "./errors";
import { run } from "./exec";
import { applyIptables, describeRestoreError } from "./iptables";
import { execInNetns } from "./netns";
import { hex } from "./testing";

async function tempNetns(t: { teardown(fn: () => Promise<unknown>): void }): Promise<string> {
  const netns = `wt${hex(6)}`;
  await run("ip", ["netns", "add", netns]);
  t.teardown(() => run("ip", ["netns", "del", netns]).catch(() => {}));
  return netns;
}

const natRules = [
  "*nat",
  ":OUTPUT ACCEPT [0:0]",
  "-A OUTPUT -p tcp -d 10.96.0.10 --dport 80 -j REDIRECT --to-ports 15001",
  "COMMIT",
].join("\n");

test("rules land in the netns only, and reapplying does not duplicate them", async (t) => {
  const netns = await tempNetns(t);
  await applyIptables(netns, natRules);
  await applyIptables(netns, natRules);
  const { stdout } = await execInNetns(netns, ["iptables", "-w", "-t", "nat", "-S", "OUTPUT"]);
  const redirects = stdout.split("\n").filter((l) => l.includes("REDIRECT"));
  t.deepEqual(redirects, [
    "-A OUTPUT -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 15001",
  ]);
  const host = await run("iptables", ["-w", "-t", "nat", "-S", "OUTPUT"]);
  t.false(host.stdout.includes("10.96.0.10"));
});

test("a bad rule fails with iptables' message and the line it names", async (t) => {
  const netns = await tempNetns(t);
  const bad = ["*nat", ":OUTPUT ACCEPT [0:0]", "-A OUTPUT -p tcpx -j ACCEPT", "COMMIT"].join("\n");
  const err = await t.throwsAsync(applyIptables(netns, bad), { instanceOf: NetworkError });
  t.is(err.code, "IPTABLES_FAILED");
  t.regex(err.message, /unknown protocol "tcpx"/);
  t.regex(err.message, /line 3: -A OUTPUT -p tcpx -j ACCEPT/);
  t.truthy(err.stderr);
});

test("a missing netns is reported as such", async (t) => {
  const err = await t.throwsAsync(applyIptables(`wt${hex(6)}`, natRules), { instanceOf: NetworkError });
  t.is(err.code, "NETNS_NOT_FOUND");
});

test("error text without a line number is passed through", (t) => {
  t.is(
    describeRestoreError("iptables-restore: something broke\n", "x\n"),
    "iptables-restore: something broke",
  );
  t.is(
    describeRestoreError("iptables-restore: COMMIT expected at line 2\n", "*nat\n-A OUTPUT -j ACCEPT\n"),
    "iptables-restore: COMMIT expected at line 2 (line 2: -A OUTPUT -j ACCEPT)",
  );
});
