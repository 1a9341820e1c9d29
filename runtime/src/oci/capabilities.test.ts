import test from "ava";
import {
  ALL_CAPABILITIES,
  DEFAULT_CAPABILITIES,
  effectiveCapabilities,
  hostCapabilities,
} from "./capabilities";
import { OciError } from "./errors";

const ALL = ALL_CAPABILITIES;

test("Docker's defaults, --cap-drop and --cap-add in any spelling", (t) => {
  t.deepEqual(effectiveCapabilities({}, ALL).sort(), [...DEFAULT_CAPABILITIES].sort());
  const c = effectiveCapabilities({ capDrop: ["net_raw"], capAdd: ["CAP_NET_ADMIN", "sys_admin"] }, ALL);
  t.false(c.includes("CAP_NET_RAW"));
  t.true(c.includes("CAP_NET_ADMIN"));
  t.true(c.includes("CAP_SYS_ADMIN"));
});

test("ALL: drop ALL then add one leaves just that one; add ALL gives what the host holds", (t) => {
  t.deepEqual(effectiveCapabilities({ capDrop: ["ALL"], capAdd: ["CHOWN"] }, ALL), ["CAP_CHOWN"]);
  const host = ALL.filter((c) => c !== "CAP_SYS_RESOURCE");
  t.deepEqual(effectiveCapabilities({ capAdd: ["ALL"] }, host), host);
  t.deepEqual(effectiveCapabilities({ privileged: true, capDrop: ["ALL"] }, host), host);
});

test("an unknown capability, or one the daemon lacks, is refused naming the flag", (t) => {
  const unknown = t.throws(() => effectiveCapabilities({ capAdd: ["FLY"] }, ALL), { instanceOf: OciError });
  t.regex(unknown?.message ?? "", /^--cap-add: unknown capability "FLY"/);
  t.throws(() => effectiveCapabilities({ capDrop: ["nope"] }, ALL), { message: /^--cap-drop/ });
  const host = ALL.filter((c) => c !== "CAP_SYS_RESOURCE");
  t.throws(() => effectiveCapabilities({ capAdd: ["SYS_RESOURCE"] }, host), {
    message: /--cap-add CAP_SYS_RESOURCE: the weft daemon does not hold/,
  });
});

test("the host's set comes from CapBnd, bit by bit", (t) => {
  t.deepEqual(hostCapabilities("CapBnd:\t0000000000000005\n"), ["CAP_CHOWN", "CAP_DAC_READ_SEARCH"]);
  t.false(hostCapabilities("CapBnd:\t000001fffeffffff\n").includes("CAP_SYS_RESOURCE"));
});
