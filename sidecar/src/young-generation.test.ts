// The young-generation cap, in a process of its own (testing/young-generation-probe.ts): V8 grows
// new space under a workload whose objects survive scavenges; the cap holds it, and V8 grows it
// again once the cap is stopped.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import test from "ava";
import { capYoungGeneration } from "./young-generation";

const MB = 1024 * 1024;

test("new space stays at the cap under load, and grows past it once the cap is stopped", async (t) => {
  const probe = join(import.meta.dirname, "testing", "young-generation-probe.ts");
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", probe]);
  const r = JSON.parse(stdout) as { capBytes: number; capped: number; seen: number; afterStop: number };
  t.true(r.capped <= r.capBytes, `new space ${r.capped / MB} MB under a ${r.capBytes / MB} MB cap`);
  t.is(r.seen, r.capped);
  t.true(r.afterStop > r.capBytes, `new space ${r.afterStop / MB} MB after stop: V8 grows it again`);
});

test("one cap per process: a second call returns the one installed", (t) => {
  const a = capYoungGeneration(4 * MB);
  t.is(capYoungGeneration(8 * MB), a);
  a.stop();
});
