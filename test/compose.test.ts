// weft up / weft down against a real daemon (runc, netns, overlay, cgroups): create, converge an app
// that is already up (unchanged, changed, scaled, orphaned), and take it down with its volumes; up in
// the foreground shows the containers' output and stops them on Ctrl-C.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { DaemonComposeApi, down, loadManifest, up, upCommand } from "../runtime/src/compose/index";
import { systemClock } from "../runtime/src/engine/parts";
import { startRealDaemon } from "../runtime/src/engine/real-daemon.testing";
import type { ContainerState } from "../runtime/src/engine/types";

test("up creates, converges and down removes a project on a real daemon", async (t) => {
  const d = await startRealDaemon();
  t.teardown(() => d.close());
  const dir = mkdtempSync(join(tmpdir(), "weft-compose-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "weft.yaml");
  const api = new DaemonComposeApi(d.client);
  const project = async () =>
    new Map(
      (await api.list())
        .filter((c) => c.labels["weft.project"] === "shop")
        .map((c): [string, ContainerState] => [c.name, c]),
    );
  const converge = async (yaml: string) => {
    writeFileSync(file, yaml);
    const lines: string[] = [];
    // sleep as pid 1 ignores SIGTERM: a short grace keeps the test quick.
    await up(api, loadManifest(file), { print: (l) => lines.push(l), clock: systemClock, stopTimeoutS: 1 });
    return lines;
  };

  const v1 = `
name: shop
services:
  db:
    image: busybox
    command: sleep 300
    sidecar: false
    volumes: ["data:/data"]
  web:
    image: busybox
    command: ["sleep", "300"]
    sidecar: false
    replicas: 2
    environment: {MODE: v1}
    labels: {tier: front}
    resources: {memory: 32m}
    depends_on: [db]
volumes:
  data: {}
`;
  // First through the CLI command, as a user runs it.
  writeFileSync(file, v1);
  t.is(await upCommand.run(["-d", "-f", file, "--host", `unix://${d.client.socketPath}`]), 0);
  const first = await project();
  t.deepEqual([...first.keys()].sort(), ["shop-db-1", "shop-web-1", "shop-web-2"]);
  for (const c of first.values()) t.is(c.status, "running", c.name);
  const web1 = first.get("shop-web-1")!;
  t.is(web1.labels["weft.compose.service"], "web");
  t.is(web1.labels.tier, "front");
  t.regex(web1.labels["weft.config-hash"] ?? "", /^[0-9a-f]{16}$/);
  t.true(web1.env.includes("MODE=v1"));
  t.is(web1.memoryBytes, 32 * 1024 * 1024);
  t.deepEqual(
    first.get("shop-db-1")!.mounts?.map((m) => `${m.source}:${m.destination}`),
    ["shop_data:/data"],
  );
  t.true((await api.volumes()).includes("shop_data"));

  // The same file again: nothing is touched.
  const same = await converge(v1);
  t.true(
    same.every((l) => l.endsWith("Running")),
    same.join("\n"),
  );
  const again = await project();
  for (const [name, c] of first) t.is(again.get(name)?.id, c.id, `${name} kept`);

  // --scale, as docker compose's: another count for one service in this up, the file's count next time.
  const upCli = (...args: string[]) =>
    upCommand.run(["-d", "-t", "1", "-f", file, "--host", `unix://${d.client.socketPath}`, ...args]);
  t.is(await upCli("--scale", "web=3"), 0);
  const scaled = await project();
  t.deepEqual([...scaled.keys()].sort(), ["shop-db-1", "shop-web-1", "shop-web-2", "shop-web-3"]);
  t.is(scaled.get("shop-web-1")?.id, web1.id, "the replicas there already are left alone");
  const unknown = await upCli("--scale", "nope=2").catch((e: Error) => e);
  t.regex(
    String((unknown as Error).message),
    /--scale nope=2: no service "nope" in the manifest; its services: db, web/,
  );
  t.is(await upCli(), 0);
  t.deepEqual([...(await project()).keys()].sort(), ["shop-db-1", "shop-web-1", "shop-web-2"]);

  // A changed service is recreated, a scaled-down replica removed, the rest left alone.
  const lines = await converge(v1.replace("replicas: 2", "replicas: 1").replace("MODE: v1", "MODE: v2"));
  const v2 = await project();
  t.deepEqual([...v2.keys()].sort(), ["shop-db-1", "shop-web-1"], lines.join("\n"));
  t.is(v2.get("shop-db-1")!.id, first.get("shop-db-1")!.id);
  t.not(v2.get("shop-web-1")!.id, web1.id);
  t.true(v2.get("shop-web-1")!.env.includes("MODE=v2"));
  t.true(lines.some((l) => /shop-web-1 +Recreated/.test(l)));

  // A service no longer in the file is removed; a new one is created.
  await converge(
    v1.replace(
      / {2}web:[\s\S]*?depends_on: \[db\]\n/,
      "  cache: {image: busybox, command: sleep 300, sidecar: false}\n",
    ),
  );
  t.deepEqual([...(await project()).keys()].sort(), ["shop-cache-1", "shop-db-1"]);

  const removed = await down(api, loadManifest(file), { print: () => {}, volumes: true, stopTimeoutS: 1 });
  t.is(removed, 2);
  t.deepEqual([...(await project()).keys()], []);
  t.false((await api.volumes()).includes("shop_data"));
});

test("up without -d shows each container's output under its name, as docker compose up, and Ctrl-C stops them", async (t) => {
  const d = await startRealDaemon();
  t.teardown(() => d.close());
  const dir = mkdtempSync(join(tmpdir(), "weft-compose-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "weft.yaml");
  // `ticker` keeps writing; `once` writes a line and exits before weft's first look at it.
  writeFileSync(
    file,
    `
name: logs
services:
  ticker:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo tick $i; echo warn $i >&2; sleep 0.2; done"]
    sidecar: false
  once:
    image: busybox
    command: ["echo", "done at once"]
    sidecar: false
`,
  );
  const api = new DaemonComposeApi(d.client);
  t.teardown(async () => {
    await down(api, loadManifest(file), { print: () => {}, volumes: true, stopTimeoutS: 1 }).catch(() => 0);
  });
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(process.cwd(), "cli", "main.ts"), "up", "-f", file, "-t", "1"],
    {
      env: { ...process.env, WEFT_HOST: `unix://${d.client.socketPath}` },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr.on("data", (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  for (let i = 0; i < 300 && !/logs-ticker-1 +\| tick 3\n/.test(out); i++)
    await new Promise((r) => setTimeout(r, 100));
  t.regex(out, /^logs-ticker-1 +\| tick 1$/m, out);
  t.regex(out, /^logs-ticker-1 +\| warn 1$/m, "stderr too");
  t.regex(out, /^logs-once-1 +\| done at once$/m, "a container that ended before weft looked");
  // Each line once.
  t.is(out.match(/\| tick 1\n/g)?.length, 1, out);
  child.kill("SIGINT");
  const code = await exited;
  t.is(code, 0, out);
  t.regex(out, /Stopping\.\.\.\n[\s\S]*Container logs-ticker-1 +Stopped/);
  const ticker = (await api.list()).find((c) => c.name === "logs-ticker-1");
  t.is(ticker?.status, "exited");
});
