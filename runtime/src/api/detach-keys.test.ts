import test from "ava";
import { DEFAULT_DETACH_KEYS, DetachKeys, parseDetachKeys } from "./detach-keys";

test("ctrl-p ctrl-q detaches and is not passed on; what came before it is", (t) => {
  const keys = new DetachKeys(parseDetachKeys(DEFAULT_DETACH_KEYS));
  t.deepEqual(keys.push(Buffer.from("ls\r")), { pass: Buffer.from("ls\r"), detached: false });
  // Split across reads, as keystrokes arrive.
  t.deepEqual(keys.push(Buffer.from("x\x10")), { pass: Buffer.from("x"), detached: false });
  t.deepEqual(keys.push(Buffer.from("\x11")), { pass: Buffer.alloc(0), detached: true });
});

test("a ctrl-p not followed by ctrl-q is typed after all", (t) => {
  const keys = new DetachKeys(parseDetachKeys(DEFAULT_DETACH_KEYS));
  t.deepEqual(keys.push(Buffer.from("\x10")), { pass: Buffer.alloc(0), detached: false });
  t.deepEqual(keys.push(Buffer.from("a")), { pass: Buffer.from("\x10a"), detached: false });
  t.deepEqual(keys.push(Buffer.from("\x10\x10\x11")), { pass: Buffer.from("\x10"), detached: true });
});

test("--detach-keys takes Docker's format and names a bad key", (t) => {
  t.deepEqual(parseDetachKeys("ctrl-a,x,ctrl-@,ctrl-_"), Buffer.from([1, 0x78, 0, 31]));
  t.throws(() => parseDetachKeys("ctrl-p,meta-q"), { message: /--detach-keys: "meta-q" is not a key/ });
});
