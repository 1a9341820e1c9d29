import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { SidecarError } from "../errors";
import { interceptFromLabels } from "./labels";
import { buildRedirectRules, type RedirectOptions, redirectRules } from "./rules";

const testdata = join(dirname(fileURLToPath(import.meta.url)), "testdata");

// UPDATE_GOLDEN=1 rewrites the files; review the diff before committing it.
function golden(t: { is(a: string, b: string): void }, name: string, options: RedirectOptions) {
  const file = join(testdata, `${name}.golden`);
  const actual = redirectRules(options);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, actual);
  t.is(actual, readFileSync(file, "utf8"));
}

test("default rules match the golden file", (t) => golden(t, "default", {}));

test("extra exclusions and other ports match the golden file", (t) =>
  golden(t, "exclusions", {
    proxyUid: 2000,
    proxyGid: 2001,
    outboundPort: 16001,
    excludeInboundPorts: [22],
    excludeOutboundPorts: [5432, 6379],
    excludeOutboundCidrs: ["169.254.169.254/32", "10.0.0.0/8"],
  }));

test("without DNS capture no port-53 rule is emitted", (t) => golden(t, "no-dns", { captureDns: false }));

test("the proxy's uid is exempt before anything is redirected", (t) => {
  const rules = buildRedirectRules().rules.filter((r) => r.chain === "WEFT_OUTPUT");
  const uid = rules.findIndex((r) => r.args.includes("--uid-owner"));
  const firstRedirect = rules.findIndex(
    (r) => r.args.includes("REDIRECT") || r.args.includes("WEFT_REDIRECT"),
  );
  t.true(uid >= 0 && uid < firstRedirect);
});

test("bad options are refused with a message naming them", (t) => {
  const e1 = t.throws(() => redirectRules({ excludeOutboundCidrs: ["10.0.0.0"] }), {
    instanceOf: SidecarError,
  });
  t.is(e1?.code, "INVALID_RULE_OPTIONS");
  t.regex(e1?.message ?? "", /excludeOutboundCidrs/);
  const e2 = t.throws(() => redirectRules({ excludeInboundPorts: [70000] }));
  t.regex(e2?.message ?? "", /excludeInboundPorts: 70000/);
});

test("workload labels turn into exclusions, matching the golden file", (t) => {
  const options = interceptFromLabels({
    app: "shop",
    "traffic.weft.io/excludeInboundPorts": "22, 9000",
    "traffic.weft.io/excludeOutboundPorts": "5432",
    "traffic.weft.io/excludeOutboundIPRanges": "169.254.169.254,10.0.0.0/8",
    "traffic.weft.io/includeOutboundIPRanges": "10.96.0.0/12",
  });
  t.deepEqual(options, {
    excludeInboundPorts: [22, 9000],
    excludeOutboundPorts: [5432],
    excludeOutboundCidrs: ["169.254.169.254/32", "10.0.0.0/8"],
    includeOutboundCidrs: ["10.96.0.0/12"],
  });
  golden(t, "labels", options);
  t.deepEqual(interceptFromLabels({ "traffic.weft.io/includeOutboundIPRanges": "*" }), {
    includeOutboundCidrs: [],
  });
  t.deepEqual(interceptFromLabels({}), {});
});

test("bad exclusion labels are refused naming the label", (t) => {
  const e = t.throws(() => interceptFromLabels({ "traffic.weft.io/excludeInboundPorts": "ssh" }));
  t.regex(e?.message ?? "", /traffic\.weft\.io\/excludeInboundPorts: "ssh" is not a port/);
  const typo = t.throws(() => interceptFromLabels({ "traffic.weft.io/excludeInboundPort": "22" }));
  t.regex(typo?.message ?? "", /unknown label traffic\.weft\.io\/excludeInboundPort; known:/);
  t.throws(
    () => redirectRules(interceptFromLabels({ "traffic.weft.io/excludeOutboundIPRanges": "10.0.0/8" })),
    {
      message: /excludeOutboundCidrs: "10\.0\.0\/8" is not an IPv4 CIDR/,
    },
  );
});
