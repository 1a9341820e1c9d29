import { existsSync } from "node:fs";
import test from "ava";
import { DEFAULT_CAPABILITIES } from "./capabilities";
import { OciError } from "./errors";
import { DEFAULT_SECCOMP_PROFILE, readSeccompProfile, seccompFor } from "./seccomp";

const PROFILE = JSON.stringify({
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: 38,
  archMap: [
    { architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
    { architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] },
  ],
  syscalls: [
    {
      names: ["swapon", "kexec_load"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 1,
      args: [],
      includes: {},
      excludes: {},
    },
    { names: ["read", "write"], action: "SCMP_ACT_ALLOW", args: [], includes: {}, excludes: {} },
    {
      names: ["personality"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: 8, valueTwo: 0, op: "SCMP_CMP_EQ" }],
    },
    { names: ["arch_prctl"], action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64", "x32"] } },
    { names: ["arm_fadvise64_64"], action: "SCMP_ACT_ALLOW", includes: { arches: ["arm", "arm64"] } },
    { names: ["bpf", "mount_setattr"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_ADMIN"] } },
    {
      names: ["bpf", "mount_setattr"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 1,
      excludes: { caps: ["CAP_SYS_ADMIN"] },
    },
  ],
});

const names = (rules: Array<{ names: string[]; action: string }>, action: string) =>
  rules.filter((r) => r.action === action).flatMap((r) => r.names);

test("default caps: blocked list kept with EPERM, cap-gated syscalls denied, foreign arches and x32 left out", (t) => {
  const s = seccompFor(PROFILE, DEFAULT_CAPABILITIES, "x64");
  t.is(s.defaultAction, "SCMP_ACT_ERRNO");
  t.is(s.defaultErrnoRet, 38);
  // x32 is denied outright (no x32 images exist; its filter copy costs runc ~15 ms per start).
  t.deepEqual(s.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]);
  t.deepEqual(s.syscalls[0], { names: ["swapon", "kexec_load"], action: "SCMP_ACT_ERRNO", errnoRet: 1 });
  t.deepEqual(names(s.syscalls, "SCMP_ACT_ALLOW"), ["read", "write", "personality", "arch_prctl"]);
  t.deepEqual(s.syscalls.find((r) => r.names[0] === "personality")?.args, [
    { index: 0, value: 8, valueTwo: 0, op: "SCMP_CMP_EQ" },
  ]);
  t.deepEqual(names(s.syscalls, "SCMP_ACT_ERRNO"), ["swapon", "kexec_load", "bpf", "mount_setattr"]);
});

test("--cap-add SYS_ADMIN allows the syscalls the profile ties to it, as Podman does", (t) => {
  const s = seccompFor(PROFILE, [...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"], "x64");
  t.true(names(s.syscalls, "SCMP_ACT_ALLOW").includes("bpf"));
  t.false(names(s.syscalls, "SCMP_ACT_ERRNO").includes("bpf"));
  t.true(names(s.syscalls, "SCMP_ACT_ERRNO").includes("swapon"), "the unconditional denials stay");
});

test("arm64 picks its own arch list and arch-only syscalls", (t) => {
  const s = seccompFor(PROFILE, [], "arm64");
  t.deepEqual(s.architectures, ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
  t.true(names(s.syscalls, "SCMP_ACT_ALLOW").includes("arm_fadvise64_64"));
  t.false(names(s.syscalls, "SCMP_ACT_ALLOW").includes("arch_prctl"));
});

test("a missing profile names the package; a broken one says so", (t) => {
  const err = t.throws(() => readSeccompProfile("/nonexistent/seccomp.json"), { instanceOf: OciError });
  t.is(err?.code, "SECCOMP_PROFILE_MISSING");
  t.regex(err?.message ?? "", /golang-github-containers-common/);
  t.regex(err?.message ?? "", /seccomp=unconfined/);
  t.throws(() => seccompFor("{not json", []), { message: /not JSON/ });
});

test("Podman's real profile converts: swapon denied, mount allowed, bpf only with SYS_ADMIN", (t) => {
  if (!existsSync(DEFAULT_SECCOMP_PROFILE)) {
    t.log(`${DEFAULT_SECCOMP_PROFILE} missing; run scripts/install-deps.sh`);
    t.pass();
    return;
  }
  const text = readSeccompProfile();
  const base = seccompFor(text, DEFAULT_CAPABILITIES, "x64");
  t.true(names(base.syscalls, "SCMP_ACT_ERRNO").includes("swapon"));
  t.true(names(base.syscalls, "SCMP_ACT_ALLOW").includes("read"));
  t.false(names(base.syscalls, "SCMP_ACT_ALLOW").includes("bpf"));
  const admin = seccompFor(text, [...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"], "x64");
  t.true(names(admin.syscalls, "SCMP_ACT_ALLOW").includes("bpf"));
});
