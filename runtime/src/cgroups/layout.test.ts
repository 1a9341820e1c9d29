import test from "ava";
import { CgroupError } from "./errors";
import { detectCgroupLayout } from "./layout";

// This host: v1 controllers mounted one by one (cpu apart from cpuacct), plus a near-empty cgroup2.
const hybridSeparate = `22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

// systemd's hybrid layout on Debian/Ubuntu: cpu and cpuacct share one mount, optional fields present.
const hybridCombined = `25 30 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
27 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
31 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct
32 25 0:30 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,net_cls,net_prio
33 25 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,memory
36 25 0:34 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,pids
`;

// A pure cgroup v2 host (Debian 12, Fedora, Ubuntu 22.04+).
const pureV2 = `24 29 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 24 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
1089 1088 0:24 /system.slice /run/cg\\040copy rw shared:4 - cgroup2 cgroup2 rw
`;

test("separately mounted v1 controllers with an empty cgroup2 beside them are v1", (t) => {
  const layout = detectCgroupLayout(hybridSeparate);
  t.is(layout.mode, "v1");
  t.is(layout.v1Mounts["cpu"], "/sys/fs/cgroup/cpu");
  t.is(layout.v1Mounts["cpuacct"], "/sys/fs/cgroup/cpuacct");
  t.is(layout.v1Mounts["memory"], "/sys/fs/cgroup/memory");
  t.is(layout.v1Mounts["pids"], "/sys/fs/cgroup/pids");
  t.is(layout.v2Mount, "/sys/fs/cgroup/unified");
  t.false("systemd" in layout.v1Mounts, "named hierarchies are not controllers");
  t.false("rw" in layout.v1Mounts);
});

test("a combined cpu,cpuacct mount serves both controllers", (t) => {
  const layout = detectCgroupLayout(hybridCombined);
  t.is(layout.mode, "v1");
  t.is(layout.v1Mounts["cpu"], "/sys/fs/cgroup/cpu,cpuacct");
  t.is(layout.v1Mounts["cpuacct"], "/sys/fs/cgroup/cpu,cpuacct");
  t.is(layout.v1Mounts["net_prio"], "/sys/fs/cgroup/net_cls,net_prio");
  t.is(layout.v1Mounts["memory"], "/sys/fs/cgroup/memory");
});

test("a single cgroup2 mount is v2, and a mount of the hierarchy's root wins over a subtree", (t) => {
  t.deepEqual(detectCgroupLayout(pureV2), { mode: "v2", v1Mounts: {}, v2Mount: "/sys/fs/cgroup" });
  const subtreeFirst = pureV2.split("\n").reverse().join("\n");
  t.is(detectCgroupLayout(subtreeFirst).v2Mount, "/sys/fs/cgroup");
});

test("escaped mount points are decoded", (t) => {
  const line = "40 30 0:37 / /mnt/cg\\040v2 rw - cgroup2 cgroup2 rw\n";
  t.is(detectCgroupLayout(line).v2Mount, "/mnt/cg v2");
});

test("no cgroup mount at all is an error that says what is missing", (t) => {
  const err = t.throws(() => detectCgroupLayout("22 1 0:21 / /sys rw - sysfs sysfs rw\n"), {
    instanceOf: CgroupError,
  });
  t.is(err.code, "NO_CGROUPS");
});

test("this host's layout is detected from /proc/self/mountinfo", (t) => {
  const layout = detectCgroupLayout();
  t.true(layout.mode === "v1" ? "memory" in layout.v1Mounts : layout.v2Mount !== undefined);
});
