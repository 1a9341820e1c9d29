import test from "ava";
import { BuildError, parseLdd } from "./index";

test("ldd output: resolved libraries and the loader, no vDSO; a missing library is named", (t) => {
  const out = [
    "\tlinux-vdso.so.1 (0x00007ffd)",
    "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f29)",
    "\t/lib64/ld-linux-x86-64.so.2 (0x00007f29)",
  ].join("\n");
  t.deepEqual(parseLdd(out, "/bin/x"), ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]);
  const err = t.throws(() => parseLdd("\tlibfoo.so.1 => not found\n", "/bin/x"), { instanceOf: BuildError });
  t.is(err?.code, "MISSING_SOURCE");
  t.regex(err?.message ?? "", /\/bin\/x needs the shared library libfoo\.so\.1/);
});
