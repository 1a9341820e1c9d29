import test from "ava";
import { buildSpec, DEFAULT_CAPABILITIES, type SpecOptions } from "./index";
import { containerNofile } from "./limits";

const base: SpecOptions = {
  rootfs: "/state/c1/rootfs",
  args: ["/bin/app", "--port", "8080"],
  env: ["A=1"],
  cwd: "/srv",
  uid: 1000,
  gid: 1000,
  hostname: "web-1",
  netnsPath: "/var/run/netns/weft-c1",
  cgroupsPath: "/weft/c1",
  resources: { memory: { limit: 67108864 }, pids: { limit: 100 } },
  binds: [
    { source: "/state/c1/etc/resolv.conf", destination: "/etc/resolv.conf", readonly: true },
    { source: "/data", destination: "/data" },
  ],
};

test("process: args, user, Docker's capabilities, no new privileges, NOFILE", (t) => {
  const spec = buildSpec(base);
  t.is(spec.ociVersion, "1.0.2");
  t.deepEqual(spec.process.args, base.args);
  t.deepEqual(spec.process.user, { uid: 1000, gid: 1000 });
  t.is(spec.process.cwd, "/srv");
  t.false(spec.process.terminal);
  t.true(spec.process.noNewPrivileges);
  t.is(DEFAULT_CAPABILITIES.length, 14);
  for (const set of ["bounding", "effective", "permitted"] as const) {
    t.deepEqual(spec.process.capabilities[set], DEFAULT_CAPABILITIES);
  }
  t.false(spec.process.capabilities.bounding.includes("CAP_SYS_ADMIN"));
  t.deepEqual(buildSpec({ ...base, nofile: 1048576 }).process.rlimits, [
    { type: "RLIMIT_NOFILE", hard: 1048576, soft: 1048576 },
  ]);
});

test("NOFILE is 1048576 unless weft lacks CAP_SYS_RESOURCE to raise its hard limit", (t) => {
  const limits =
    "Limit  Soft Limit  Hard Limit  Units\nMax open files            20000                20000                files\n";
  t.is(containerNofile("CapEff:\t000001ffffffffff\n", limits), 1048576);
  t.is(containerNofile("CapEff:\t000001fffeffffff\n", limits), 20000);
});

test("env gets PATH and HOSTNAME only when missing", (t) => {
  t.deepEqual(buildSpec(base).process.env, [
    "A=1",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOSTNAME=web-1",
  ]);
  t.deepEqual(buildSpec({ ...base, env: ["PATH=/x", "HOSTNAME=h"] }).process.env, ["PATH=/x", "HOSTNAME=h"]);
});

test("root, hostname, namespaces joining the workload netns, cgroup", (t) => {
  const spec = buildSpec(base);
  t.deepEqual(spec.root, { path: "/state/c1/rootfs", readonly: false });
  t.true(buildSpec({ ...base, readonlyRootfs: true }).root.readonly);
  t.is(spec.hostname, "web-1");
  t.deepEqual(spec.linux.namespaces.map((n) => n.type).sort(), ["ipc", "mount", "network", "pid", "uts"]);
  t.is(spec.linux.namespaces.find((n) => n.type === "network")?.path, "/var/run/netns/weft-c1");
  t.is(spec.linux.cgroupsPath, "/weft/c1");
});

test("resources keep the caller's limits and start with deny-all device rules", (t) => {
  const { resources } = buildSpec({
    ...base,
    resources: {
      ...base.resources,
      devices: [{ allow: true, type: "c", major: 10, minor: 229, access: "rw" }],
    },
  }).linux;
  t.deepEqual(resources["memory"], { limit: 67108864 });
  t.deepEqual(resources["pids"], { limit: 100 });
  t.deepEqual(resources.devices[0], { allow: false, access: "rwm" });
  t.true(resources.devices.some((d) => d.allow && d.major === 1 && d.minor === 3)); // /dev/null
  t.deepEqual(resources.devices.at(-1), { allow: true, type: "c", major: 10, minor: 229, access: "rw" });
});

test("mounts as Docker, plus binds read-only when asked", (t) => {
  const spec = buildSpec(base);
  const byDest = new Map(spec.mounts.map((m) => [m.destination, m]));
  t.deepEqual(
    spec.mounts.slice(0, 7).map((m) => m.destination),
    ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"],
  );
  t.true(byDest.get("/sys")?.options.includes("ro"));
  t.true(byDest.get("/sys/fs/cgroup")?.options.includes("ro"));
  t.true(byDest.get("/dev/shm")?.options.includes("size=67108864"));
  t.deepEqual(byDest.get("/etc/resolv.conf"), {
    destination: "/etc/resolv.conf",
    type: "bind",
    source: "/state/c1/etc/resolv.conf",
    options: ["rbind", "rprivate", "ro"],
  });
  t.deepEqual(byDest.get("/data")?.options, ["rbind", "rprivate"]);
  t.true(spec.linux.maskedPaths.includes("/proc/kcore"));
  t.true(spec.linux.readonlyPaths.includes("/proc/sys"));
});

test("--tmpfs mounts carry Docker's options; parents mount before what is mounted inside them", (t) => {
  const spec = buildSpec({
    ...base,
    binds: [...base.binds, { source: "/vol", destination: "/cache/deep" }],
    tmpfs: [
      { destination: "/cache", sizeBytes: 64 * 1024 * 1024, mode: 0o1777 },
      { destination: "/tools", mode: 0o755, exec: true },
    ],
  });
  const byDest = new Map(spec.mounts.map((m) => [m.destination, m]));
  t.deepEqual(byDest.get("/cache"), {
    destination: "/cache",
    type: "tmpfs",
    source: "tmpfs",
    options: ["nosuid", "nodev", "noexec", "mode=1777", "size=67108864"],
  });
  t.deepEqual(byDest.get("/tools")?.options, ["nosuid", "nodev", "mode=755"]);
  const order = spec.mounts.slice(7).map((m) => m.destination);
  t.deepEqual(order, ["/data", "/cache", "/tools", "/etc/resolv.conf", "/cache/deep"]);
});
