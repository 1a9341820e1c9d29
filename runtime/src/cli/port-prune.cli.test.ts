// weft port and weft container prune as a user types them, against a daemon API over fake parts.
import test from "ava";
import { startFakeDaemon, weftCli } from "./testing";

test("port prints where each port is published, or the one asked for", async (t) => {
  const { host } = await startFakeDaemon(t);
  const weft = (args: string[], input?: string) => weftCli(args, { WEFT_HOST: host }, input);
  const run = await weft([
    "run",
    "-d",
    "--name",
    "web",
    "-p",
    "127.0.0.1:18081:8080",
    "busybox",
    "sleep",
    "300",
  ]);
  t.is(run.stderr, "");
  t.is((await weft(["port", "web"])).stdout, "8080/tcp -> 127.0.0.1:18081\n");
  t.is((await weft(["port", "web", "8080/tcp"])).stdout, "127.0.0.1:18081\n");
  const none = await weft(["port", "web", "9090"]);
  t.is(none.code, 1);
  t.regex(none.stderr, /no public port '9090\/tcp' published for web \(published: 8080\/tcp; publish with/);
  t.is((await weft(["port", "web", "http"])).code, 2);
  // ps lists a mapping while it is bound, as docker ps: not once the container stopped.
  const ports = async () => (await weft(["ps", "-a", "--format", "{{.Names}}:{{.Ports}}"])).stdout;
  t.is(await ports(), "web:127.0.0.1:18081->8080/tcp\n");
  t.is((await weft(["stop", "-t", "1", "web"])).code, 0);
  t.is(await ports(), "web:\n");
});

test("container prune removes what is not running, after asking; running ones stay", async (t) => {
  const { host } = await startFakeDaemon(t);
  const weft = (args: string[], input?: string) => weftCli(args, { WEFT_HOST: host }, input);
  t.is((await weft(["run", "-d", "--name", "up", "busybox", "sleep", "300"])).stderr, "");
  const idle = (await weft(["create", "--name", "idle", "--label", "keep=yes", "busybox"])).stdout.trim();
  const other = (await weft(["create", "--name", "other", "busybox"])).stdout.trim();

  // No answer is no.
  const refused = await weft(["container", "prune"], "");
  t.regex(
    refused.stderr,
    /WARNING! This will remove all stopped containers\.\nAre you sure you want to continue\? \[y\/N\]/,
  );
  t.is((await weft(["ps", "-aq"])).stdout.split("\n").filter(Boolean).length, 3);

  const some = await weft(["container", "prune", "--filter", "label=keep"], "y\n");
  t.is(some.stdout, `Deleted Containers:\n${idle}\n`);
  const rest = await weft(["container", "prune", "-f"]);
  t.is(rest.stdout, `Deleted Containers:\n${other}\n`);
  t.is((await weft(["ps", "-a", "--format", "{{.Names}}"])).stdout, "up\n");
  t.is((await weft(["container", "prune", "-f"])).stdout, "No stopped containers to remove.\n");
});

test("volume prune -a removes the volumes no container uses, after asking; one a stopped container uses stays", async (t) => {
  const { host } = await startFakeDaemon(t);
  const weft = (args: string[], input?: string) => weftCli(args, { WEFT_HOST: host }, input);
  t.is((await weft(["volume", "create", "spare"])).code, 0);
  t.is((await weft(["create", "--name", "user", "-v", "kept:/data", "busybox"])).code, 0);
  const plain = await weft(["volume", "prune", "-f"]);
  t.regex(plain.stdout, /^No anonymous volumes to remove: every weft volume is named/);
  const refused = await weft(["volume", "prune", "-a"], "");
  t.regex(refused.stderr, /WARNING! This will remove all local volumes not used by at least one container\./);
  t.is((await weft(["volume", "ls", "-q"])).stdout, "kept\nspare\n", "neither removed anything");
  t.is((await weft(["volume", "prune", "-a"], "y\n")).stdout, "Deleted Volumes:\nspare\n");
  t.is((await weft(["volume", "ls", "-q"])).stdout, "kept\n");
  t.is((await weft(["volume", "prune", "-a", "-f"])).stdout, "No unused volumes to remove.\n");
  t.is((await weft(["rm", "user"])).code, 0);
  t.is(
    (await weft(["volume", "prune", "-af"])).stdout,
    "Deleted Volumes:\nkept\n",
    "once its container is gone",
  );
});

test("image prune -a removes the images no container was made from; without -a there is nothing dangling", async (t) => {
  const { host, sys } = await startFakeDaemon(t);
  const weft = (args: string[], input?: string) => weftCli(args, { WEFT_HOST: host }, input);
  const busybox = sys.images.get("busybox");
  if (!busybox) throw new Error("the fake daemon has no busybox");
  sys.images.set("unused", { ...busybox, name: "unused", id: "ab".repeat(32) });
  t.is((await weft(["create", "--name", "user", "busybox"])).code, 0);
  const names = async () =>
    (await weft(["image", "ls", "--format", "{{.Name}}"])).stdout.split("\n").filter(Boolean).sort();
  const plain = await weft(["image", "prune", "-f"]);
  t.regex(plain.stdout, /^No dangling images to remove: every weft image has a name/);
  t.deepEqual(await names(), ["busybox", "unused"]);
  t.is((await weft(["image", "prune", "-a"], "")).code, 0);
  t.deepEqual(await names(), ["busybox", "unused"], "no answer is no");
  t.is((await weft(["image", "prune", "-a", "-f"])).stdout, "Deleted Images:\nuntagged: unused\n");
  t.deepEqual(await names(), ["busybox"], "the stopped container's image stays");
});
