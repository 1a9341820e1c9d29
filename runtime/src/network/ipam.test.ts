import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { NetworkError } from "./errors";
import { Ipam } from "./ipam";

function tempFile(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "wt-ipam-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "state", "ipam.json");
}

test("addresses start after the gateway and go up", (t) => {
  const ipam = new Ipam(tempFile(t), "10.88.0.0/16");
  t.is(ipam.allocate("a"), "10.88.0.2");
  t.is(ipam.allocate("b"), "10.88.0.3");
});

test("the same owner gets the same address", (t) => {
  const ipam = new Ipam(tempFile(t), "10.88.0.0/16");
  const first = ipam.allocate("a");
  ipam.allocate("b");
  t.is(ipam.allocate("a"), first);
  t.is(ipam.lookup("a"), first);
  t.is(ipam.lookup("nobody"), undefined);
});

test("allocations survive a new instance on the same file", (t) => {
  const file = tempFile(t);
  new Ipam(file, "10.88.0.0/16").allocate("a");
  const again = new Ipam(file, "10.88.0.0/16");
  t.is(again.lookup("a"), "10.88.0.2");
  t.is(again.allocate("b"), "10.88.0.3");
});

test("a released address is reused, lowest first", (t) => {
  const ipam = new Ipam(tempFile(t), "10.88.0.0/24");
  ipam.allocate("a");
  ipam.allocate("b");
  ipam.allocate("c");
  ipam.release("a");
  ipam.release("a"); // idempotent
  t.is(ipam.lookup("a"), undefined);
  t.is(ipam.allocate("d"), "10.88.0.2");
});

test("a /30 holds one workload, then IPAM_EXHAUSTED", (t) => {
  const ipam = new Ipam(tempFile(t), "192.168.7.0/30");
  t.is(ipam.allocate("a"), "192.168.7.2");
  const err = t.throws(() => ipam.allocate("b"), { instanceOf: NetworkError });
  t.is(err.code, "IPAM_EXHAUSTED");
  t.regex(err.message, /192\.168\.7\.0\/30/);
  ipam.release("a");
  t.is(ipam.allocate("b"), "192.168.7.2");
});

test("the file is replaced atomically and leaves no temp files", (t) => {
  const file = tempFile(t);
  const ipam = new Ipam(file, "10.88.0.0/16");
  ipam.allocate("a");
  ipam.allocate("b");
  t.deepEqual(readdirSync(join(file, "..")), ["ipam.json"]);
  t.deepEqual(JSON.parse(readFileSync(file, "utf8")), {
    subnet: "10.88.0.0/16",
    allocations: { a: "10.88.0.2", b: "10.88.0.3" },
  });
});

test("a file from another subnet is refused rather than handing out foreign addresses", (t) => {
  const file = tempFile(t);
  new Ipam(file, "10.88.0.0/16").allocate("a");
  const err = t.throws(() => new Ipam(file, "10.99.0.0/16"), { instanceOf: NetworkError });
  t.is(err.code, "INVALID_SUBNET");
  t.regex(err.message, /10\.88\.0\.0\/16/);
});

test("a corrupt file is reported with its path", (t) => {
  const file = tempFile(t);
  new Ipam(file, "10.88.0.0/16").allocate("a");
  writeFileSync(file, "{not json");
  const err = t.throws(() => new Ipam(file, "10.88.0.0/16"), { instanceOf: NetworkError });
  t.is(err.code, "IPAM_STATE");
  t.true(err.message.includes(file));
});

test("an invalid subnet is refused with INVALID_SUBNET", (t) => {
  const err = t.throws(() => new Ipam(tempFile(t), "10.88.0.0/32"), { instanceOf: NetworkError });
  t.is(err.code, "INVALID_SUBNET");
});
