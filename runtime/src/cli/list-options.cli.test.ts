// What scripts and Docker habits use: ps -q, --filter and --format, inspect -f, image ls -q, as a
// user types them, against a daemon API over fake parts.
import test from "ava";
import { startFakeDaemon, weftCli } from "./testing";

test("ps -q, --filter and --format; inspect -f; as docker's", async (t) => {
  const { host } = await startFakeDaemon(t);
  const weft = (...args: string[]) => weftCli(args, { WEFT_HOST: host });
  const run = async (...args: string[]) => {
    const r = await weft("run", "-d", ...args, "busybox", "sleep", "300");
    t.is(r.stderr, "");
    return r.stdout.trim();
  };
  const web = await run("--name", "shop-web-1", "--service", "web", "--label", "tier=front");
  const db = await run("--name", "shop-db-1", "--service", "db", "--label", "tier=back");
  const idle = (await weft("create", "--name", "idle", "busybox")).stdout.trim();

  // Newest first, as docker ps lists them.
  t.is((await weft("ps", "-q")).stdout, `${db.slice(0, 12)}\n${web.slice(0, 12)}\n`);
  t.is((await weft("ps", "-aq")).stdout.split("\n").filter(Boolean).length, 3);
  t.is((await weft("ps", "-q", "--filter", "label=tier=back")).stdout, `${db.slice(0, 12)}\n`);
  t.is((await weft("ps", "-q", "-f", "name=shop", "-f", "service=web")).stdout, `${web.slice(0, 12)}\n`);
  // status= lists stopped containers without -a, as docker ps does.
  t.is((await weft("ps", "-q", "--filter", "status=created")).stdout, `${idle.slice(0, 12)}\n`);

  const names = await weft(
    "ps",
    "--format",
    "{{.Names}} {{.Image}} {{.State}} {{.Service}}",
    "-f",
    "name=shop",
  );
  t.is(names.stdout, "shop-db-1 busybox running db\nshop-web-1 busybox running web\n");
  const table = await weft(
    "ps",
    "--format",
    "table {{.ID}}\\t{{.Names}}\\t{{.Labels}}",
    "-f",
    "label=tier=front",
  );
  t.deepEqual(table.stdout.split("\n"), [
    "CONTAINER ID   NAMES        LABELS",
    `${web.slice(0, 12)}   shop-web-1   tier=front`,
    "",
  ]);
  const json = JSON.parse((await weft("ps", "--format", "{{json .}}", "-f", "name=db")).stdout) as Record<
    string,
    string
  >;
  t.like(json, { ID: db.slice(0, 12), Names: "shop-db-1", Command: '"sleep 300"', Networks: "weft" });
  t.regex(json.CreatedAt ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);

  const inspect = await weft(
    "inspect",
    "-f",
    '{{.Name}} {{.Status}} {{index .Labels "tier"}}',
    "shop-web-1",
    "idle",
  );
  t.is(inspect.stdout, "shop-web-1 running front\nidle created <no value>\n");
  const both = JSON.parse((await weft("inspect", "shop-web-1", "idle")).stdout) as Array<{ name: string }>;
  t.deepEqual(
    both.map((c) => c.name),
    ["shop-web-1", "idle"],
  );

  // Mistakes get a usage error that says what to do, and nothing runs.
  const badFilter = await weft("ps", "--filter", "colour=red");
  t.is(badFilter.code, 2);
  t.regex(badFilter.stderr, /invalid filter "colour": filter by name, id, label, status/);
  t.regex(
    (await weft("ps", "--filter", "tier")).stderr,
    /bad format of filter "tier" \(expected name=value\)/,
  );
  // As docker inspect: a name that is no container is looked up among the images; --type narrows.
  const image = await weft("inspect", "-f", "{{.Name}} {{.Id}}", "busybox");
  t.is(image.stdout, "busybox sha256:feed\n", image.stderr);
  const onlyContainers = await weft("inspect", "--type", "container", "busybox");
  t.regex(onlyContainers.stderr, /no such container "busybox"/);
  const neither = await weft("inspect", "nope");
  t.is(neither.code, 1);
  t.regex(
    neither.stderr,
    /no such container or image "nope"; list them with 'weft ps -a' and 'weft image ls'/,
  );
  t.is((await weft("inspect", "--type", "volume", "idle")).code, 2);
  const badField = await weft("inspect", "-f", "{{.State.Status}}", "idle");
  t.is(badField.code, 2);
  t.regex(badField.stderr, /no field "State" in \.; its fields: id, name, image/);
});

test("image tag adds a name; image ls -q lists each image id once", async (t) => {
  const { host } = await startFakeDaemon(t);
  const tag = await weftCli(["image", "tag", "--host", host, "busybox", "busybox:v2"]);
  t.deepEqual([tag.code, tag.stderr], [0, ""]);
  const missing = await weftCli(["image", "tag", "--host", host, "nope", "nope:v2"]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /weft image tag: .*not found/);
  const names = (await weftCli(["image", "ls", "--host", host])).stdout;
  t.regex(names, /^busybox:v2\s/m, names);
  const ids = (await weftCli(["image", "ls", "-q", "--host", host])).stdout.split("\n").filter(Boolean);
  const table = (await weftCli(["image", "ls", "--host", host])).stdout;
  t.true(ids.length > 0);
  for (const id of ids) {
    t.regex(id, /^[0-9a-f]{1,12}$/);
    t.true(table.includes(id), table);
  }
  t.is(new Set(ids).size, ids.length);
});

test("stats --format, image ls --format and volume ls -q, as docker's", async (t) => {
  const { host } = await startFakeDaemon(t);
  const weft = (...args: string[]) => weftCli(args, { WEFT_HOST: host });
  t.is((await weft("run", "-d", "--name", "web", "busybox", "sleep", "300")).stderr, "");
  const stats = await weft("stats", "--no-stream", "--format", "table {{.Name}}\\t{{.PIDs}}", "web");
  t.is(stats.stderr, "");
  t.regex(stats.stdout, /^NAME\s+PIDS\nweb\s+\d+\n$/, stats.stdout);
  t.regex(
    (await weft("stats", "--no-stream", "--format", "{{.Bogus}}", "web")).stderr,
    /no field "Bogus".*CPUPerc/,
  );

  t.is((await weft("image", "tag", "busybox", "tools/box:v2")).code, 0);
  const images = await weft("image", "ls", "--format", "table {{.Repository}}\\t{{.Tag}}");
  t.regex(images.stdout, /^REPOSITORY\s+TAG\n/);
  t.regex(images.stdout, /^tools\/box\s+v2$/m, images.stdout);

  t.is((await weft("volume", "create", "data")).code, 0);
  t.is((await weft("volume", "create", "cache")).code, 0);
  t.deepEqual((await weft("volume", "ls", "-q")).stdout.split("\n").filter(Boolean).sort(), [
    "cache",
    "data",
  ]);
});
