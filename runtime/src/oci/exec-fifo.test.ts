// Against the real runc: a container made by `runc create` runs once started through its exec fifo,
// exactly as after `runc start`; one whose init died first is reported, not waited on for ever.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { buildBusyboxTarball } from "../image/rootfs-fixture";
import { execFifoPath, startThroughExecFifo } from "./exec-fifo";
import { Runc, RuncError } from "./runc";

const dir = mkdtempSync(join(tmpdir(), "wt-fifo-"));
const tarball = buildBusyboxTarball(dir);
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** `runc create` of busybox running `script`; removed in teardown. */
function created(t: ExecutionContext, script: string): { id: string; root: string; rootfs: string } {
  const id = `wt${randomBytes(5).toString("hex")}`;
  const bundle = join(dir, id);
  const rootfs = join(bundle, "rootfs");
  const root = join(dir, `${id}-runc`);
  mkdirSync(rootfs, { recursive: true });
  t.teardown(() => {
    execFileSync("runc", ["--root", root, "delete", "--force", id], { stdio: "ignore" });
    rmSync(bundle, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });
  execFileSync("tar", ["-C", rootfs, "-xf", tarball]);
  execFileSync("runc", ["spec", "-b", bundle]);
  const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
  spec.process.terminal = false;
  spec.process.args = ["sh", "-c", script];
  spec.root.readonly = false;
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  execFileSync("runc", ["--root", root, "create", "-b", bundle, id], { stdio: "ignore" });
  return { id, root, rootfs };
}

async function stateOf(root: string, id: string): Promise<{ status: string; pid: number }> {
  const s = await new Runc({ root }).state(id);
  if (!s) throw new Error(`runc knows no container ${id}`);
  return s;
}

test("a created container runs once started through its exec fifo, and runc sees it running", async (t) => {
  const c = created(t, "echo started > /ran; exec sleep 30");
  const before = await stateOf(c.root, c.id);
  t.is(before.status, "created");
  t.false(existsSync(join(c.rootfs, "ran")), "nothing runs before the start");

  t.true(await startThroughExecFifo(c.root, c.id, before.pid));
  t.is((await stateOf(c.root, c.id)).status, "running");
  for (let i = 0; i < 100 && !existsSync(join(c.rootfs, "ran")); i++)
    await new Promise((r) => setTimeout(r, 20));
  t.is(readFileSync(join(c.rootfs, "ran"), "utf8"), "started\n");
  t.false(existsSync(execFifoPath(c.root, c.id)));
  // Started already: nothing to do here, so the caller asks `runc start`, which says why it refuses.
  t.false(await startThroughExecFifo(c.root, c.id, before.pid));
});

test("a container whose init died before the start is reported, not waited on", async (t) => {
  const c = created(t, "exec sleep 30");
  const { pid } = await stateOf(c.root, c.id);
  process.kill(pid, "SIGKILL");
  const err = await t.throwsAsync(startThroughExecFifo(c.root, c.id, pid), { instanceOf: RuncError });
  t.is(err.code, "RUNC_FAILED");
  t.regex(err.message, /exited before it was started/);
});
