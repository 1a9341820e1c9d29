// Against the real thing: runc 1.1, overlayfs, a fresh netns and the host's cgroups.
import { type ChildProcess, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { type ImageRecord, ImageStore, mountOverlay, unmount } from "../image/index";
import { buildBusyboxTarball } from "../image/rootfs-fixture";
import { buildSpec, Runc, RuncError, writeEtcFiles } from "./index";

const CGROUP_ROOT = "/sys/fs/cgroup";
const fileDir = mkdtempSync(join(tmpdir(), "wt-runc-"));
const cgroupParent = `/weft-test-${randomBytes(4).toString("hex")}`;
let image: ImageRecord;

test.before(async () => {
  const tar = buildBusyboxTarball(fileDir);
  image = await new ImageStore(join(fileDir, "images")).import(tar, "busybox");
});

test.after.always(() => {
  // runc delete removes each container's cgroup; the parent is ours to remove, in every hierarchy.
  for (const dir of cgroupDirs(cgroupParent)) {
    for (const child of readdirSync(dir, { withFileTypes: true })) {
      if (child.isDirectory()) rmdirSync(join(dir, child.name));
    }
    rmdirSync(dir);
  }
  rmSync(fileDir, { recursive: true, force: true });
});

/** The existing folders for that cgroup path under every mounted hierarchy (v1 controllers and v2). */
function cgroupDirs(path: string): string[] {
  return readdirSync(CGROUP_ROOT)
    .map((h) => join(CGROUP_ROOT, h, path))
    .filter((d) => existsSync(d));
}

interface Started {
  id: string;
  runc: Runc;
  bundle: string;
  pid: number;
  stdout(): string;
  stderr(): string;
}

/** Bundle, overlay, netns and etc files for one container; all of it removed in teardown. */
async function prepare(
  t: ExecutionContext,
  args: string[],
  o: { readonly?: boolean; resources?: object } = {},
) {
  const id = `wt${randomBytes(5).toString("hex")}`;
  const base = join(fileDir, id);
  const bundle = join(base, "bundle");
  mkdirSync(bundle, { recursive: true });
  const runc = new Runc({ root: join(base, "runc") });
  const rootfs = join(bundle, "rootfs");
  t.teardown(async () => {
    await runc.delete(id, true).catch((e: unknown) => t.log(`runc delete: ${String(e)}`));
    await unmount(rootfs).catch((e: unknown) => t.log(`unmount: ${String(e)}`));
    execFileSync("ip", ["netns", "del", id], { stdio: "ignore" });
    rmSync(base, { recursive: true, force: true });
  });
  execFileSync("ip", ["netns", "add", id]);
  await mountOverlay({
    lower: image.rootfs,
    upper: join(base, "upper"),
    work: join(base, "work"),
    target: rootfs,
  });
  const etc = await writeEtcFiles(join(base, "etc"), {
    hostname: id,
    address: "10.88.7.7",
    nameserver: "10.88.0.1",
  });
  const spec = buildSpec({
    rootfs,
    args,
    env: image.config.env,
    cwd: "/",
    uid: 0,
    gid: 0,
    hostname: id,
    netnsPath: `/var/run/netns/${id}`,
    cgroupsPath: `${cgroupParent}/${id}`,
    resources: o.resources ?? {},
    readonlyRootfs: o.readonly,
    binds: [
      { source: etc.resolvConf, destination: "/etc/resolv.conf", readonly: true },
      { source: etc.hosts, destination: "/etc/hosts", readonly: true },
      { source: etc.hostname, destination: "/etc/hostname", readonly: true },
    ],
  });
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec, null, 2));
  return { id, runc, bundle, base };
}

async function start(
  t: ExecutionContext,
  args: string[],
  o: { readonly?: boolean; resources?: object } = {},
) {
  const p = await prepare(t, args, o);
  const outPath = join(p.base, "stdout.log");
  const errPath = join(p.base, "stderr.log");
  const out = openSync(outPath, "a");
  const err = openSync(errPath, "a");
  try {
    const pid = await p.runc.run(p.id, p.bundle, { stdout: out, stderr: err });
    const started: Started = {
      ...p,
      pid,
      stdout: () => readFileSync(outPath, "utf8"),
      stderr: () => readFileSync(errPath, "utf8"),
    };
    return { ...started, upper: join(p.base, "upper") };
  } finally {
    // The container holds its own copies; the caller's are not needed once runc has started it.
    closeSync(out);
    closeSync(err);
  }
}

async function collect(child: ChildProcess): Promise<{ code: number | null; stdout: string }> {
  child.stdin?.end();
  let stdout = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stdout };
}

async function waitForStatus(runc: Runc, id: string, status: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await runc.state(id))?.status === status) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`container ${id} never reached ${status}: ${JSON.stringify(await runc.state(id))}`);
}

test("a container runs in its own netns, pid namespace and hostname; writes land in the upper layer", async (t) => {
  const c = await start(t, [
    "sh",
    "-c",
    "echo hello; hostname; echo pid=$$; ls /sys/class/net; cat /etc/resolv.conf; echo data > /written",
  ]);
  t.true(c.pid > 1);
  await waitForStatus(c.runc, c.id, "stopped");
  const lines = c.stdout().split("\n");
  t.deepEqual(lines.slice(0, 4), ["hello", c.id, "pid=1", "lo"], c.stderr());
  t.true(lines.includes("search weft"));
  t.is(readFileSync(join(c.upper, "written"), "utf8"), "data\n");
  t.false(existsSync(join(image.rootfs, "written")), "the image's rootfs is never written");
});

test("a read-only rootfs refuses writes", async (t) => {
  const c = await start(t, ["sh", "-c", "if echo x > /x; then echo WROTE; else echo REFUSED; fi"], {
    readonly: true,
  });
  await waitForStatus(c.runc, c.id, "stopped");
  t.is(c.stdout(), "REFUSED\n");
  t.regex(c.stderr(), /Read-only file system/);
});

test("exec, memory limit, kill and delete of a running container", async (t) => {
  const c = await start(t, ["sleep", "30"], { resources: { memory: { limit: 67108864 } } });
  t.deepEqual(await c.runc.state(c.id), { status: "running", pid: c.pid });
  t.deepEqual(await c.runc.list(), [{ id: c.id, status: "running", pid: c.pid }]);
  const memoryDir = join(CGROUP_ROOT, "memory", cgroupParent, c.id);
  t.is(readFileSync(join(memoryDir, "memory.limit_in_bytes"), "utf8").trim(), "67108864");

  const exec = await collect(c.runc.exec(c.id, ["sh", "-c", "echo from-exec; echo pid=$$; id -u; exit 3"]));
  t.is(exec.code, 3);
  t.regex(exec.stdout, /^from-exec\npid=\d+\n0\n$/);
  t.false(exec.stdout.includes("pid=1\n"), "exec is not the container's init");
  const tty = await collect(c.runc.exec(c.id, ["sh", "-c", "tty; exit 4"], { tty: true }));
  t.is(tty.code, 4);
  // A terminal stream: line endings are \r\n (a pty relayed through another may add a second \r) and
  // control bytes from the pty may surround the output.
  t.regex(tty.stdout, /\/dev\/pts\/\d+\r+\n/);

  await c.runc.kill(c.id, "KILL");
  await waitForStatus(c.runc, c.id, "stopped");
  await c.runc.kill(c.id, "KILL"); // no-op once stopped
  await c.runc.delete(c.id);
  await c.runc.delete(c.id); // idempotent
  t.is(await c.runc.state(c.id), undefined);
  t.deepEqual(await c.runc.list(), []);
  t.deepEqual(cgroupDirs(join(cgroupParent, c.id)), [], "runc delete removes the container's cgroups");
});

test("runc's error reaches the caller with a hint, and a failed run leaves no container", async (t) => {
  const p = await prepare(t, ["/bin/no-such-command"]);
  const log = openSync(join(p.base, "out.log"), "a");
  t.teardown(() => closeSync(log));
  const err = await p.runc.run(p.id, p.bundle, { stdout: log, stderr: log }).catch((e: unknown) => e);
  t.true(err instanceof RuncError);
  t.regex((err as RuncError).message, /no-such-command/);
  t.regex((err as RuncError).message, /does not exist in the image/);
  t.deepEqual(await p.runc.list(), []);
});
