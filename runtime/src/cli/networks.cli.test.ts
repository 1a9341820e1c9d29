import test from "ava";
import { startFakeDaemon, weftCli } from "./testing";

test("weft network: create, run --network, ls, connect, disconnect, rm refused while in use", async (t) => {
  const { host } = await startFakeDaemon(t);
  const env = { WEFT_HOST: host };
  const made = await weftCli(["network", "create", "--label", "team=shop", "front"], env);
  t.is(made.code, 0, made.stderr);
  t.regex(made.stdout, /^[0-9a-f]{64}\n$/);

  const run = await weftCli(
    ["run", "-d", "--name", "web", "--network", "front", "--network-alias", "www", "busybox", "sleep", "300"],
    env,
  );
  t.is(run.code, 0, run.stderr);
  const ls = await weftCli(["network", "ls"], env);
  const [header, row] = ls.stdout.trimEnd().split("\n");
  t.regex(header ?? "", /^NETWORK ID\s+NAME\s+CONTAINERS\s+LABELS$/);
  t.regex(row ?? "", new RegExp(`^${made.stdout.slice(0, 12)}\\s+front\\s+1\\s+team=shop$`));
  const inspect = JSON.parse((await weftCli(["inspect", "web"], env)).stdout) as {
    networks?: Record<string, { aliases: string[] }>;
  };
  t.deepEqual(inspect.networks, { front: { aliases: ["www"] } });

  const inUse = await weftCli(["network", "rm", "front"], env);
  t.is(inUse.code, 1);
  t.regex(inUse.stderr, /network front has active endpoints \(web\)/);

  t.is((await weftCli(["network", "create", "back"], env)).code, 0);
  t.is((await weftCli(["network", "connect", "--alias", "api", "back", "web"], env)).code, 0);
  t.is((await weftCli(["network", "disconnect", "front", "web"], env)).code, 0);
  const members = JSON.parse((await weftCli(["network", "inspect", "back"], env)).stdout) as Array<{
    containers: Array<{ name: string }>;
  }>;
  t.deepEqual(
    members[0]?.containers.map((c) => c.name),
    ["web"],
  );
  const rm = await weftCli(["network", "rm", "front"], env);
  t.is(rm.stdout, "front\n", rm.stderr);
  t.is((await weftCli(["network", "ls", "-q"], env)).stdout, "back\n");
});

test("run --network names a network that must exist; --network-alias needs --network", async (t) => {
  const { host } = await startFakeDaemon(t);
  const missing = await weftCli(["run", "-d", "--network", "nope", "--host", host, "busybox", "true"]);
  t.is(missing.code, 125);
  t.regex(missing.stderr, /network nope not found; .*weft network create nope/);
  const ps = await weftCli(["ps", "-a", "-q", "--host", host]);
  t.is(ps.stdout, "", "nothing was made");
  const alias = await weftCli(["run", "-d", "--network-alias", "x", "--host", host, "busybox", "true"]);
  t.is(alias.code, 2);
  t.regex(alias.stderr, /--network-alias needs --network NAME/);
});

test("a command group alone lists its commands; a typo in one is named", async (t) => {
  const group = await weftCli(["network"]);
  t.is(group.code, 0);
  t.regex(group.stdout, /^Usage: weft network COMMAND\n\nCommands:\n {2}network ls {2,}List/);
  t.regex(group.stdout, /network disconnect {1,}Take a container off/);
  const typo = await weftCli(["volume", "lss"]);
  t.is(typo.code, 2);
  t.regex(typo.stderr, /^weft: unknown command "volume lss" \(did you mean "volume ls"\?\)/);
});
