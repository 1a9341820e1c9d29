import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { parseTmpfs, parseVolume, tmpfsFrom, VolumeError, VolumeStore } from "./index";

test("-v parses binds, named volumes and :ro", (t) => {
  t.deepEqual(parseVolume("/srv/data:/data:ro"), {
    type: "bind",
    source: "/srv/data",
    destination: "/data",
    readonly: true,
  });
  t.deepEqual(parseVolume("cache:/var/cache/"), {
    type: "volume",
    source: "cache",
    destination: "/var/cache",
    readonly: false,
  });
});

test("-v refuses relative host paths, relative or root targets and unknown modes, naming the flag", (t) => {
  for (const [value, message] of [
    ["./data:/data", /^-v "\.\/data:\/data": "\.\/data" is neither an absolute host path/],
    ["/data:data", /container path must be absolute/],
    ["/data:/", /not "\/"/],
    ["/data:/x:rx", /mode must be ro or rw/],
    ["/data", /must look like HOST_PATH:CONTAINER_PATH/],
    ["/a:/b/../c", /may not contain/],
  ] as const) {
    const err = t.throws(() => parseVolume(value), { instanceOf: VolumeError }, value);
    t.regex(err?.message ?? "", message);
  }
});

test("the store creates on first use, lists, keeps data, and refuses rm while in use", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "wt-vol-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new VolumeStore(dir);
  const v = store.create("data");
  t.is(v.mountpoint, join(dir, "data", "_data"));
  writeFileSync(join(v.mountpoint, "f"), "kept");
  t.is(store.create("data").mountpoint, v.mountpoint, "create is idempotent");
  t.true(existsSync(join(v.mountpoint, "f")));
  t.deepEqual(
    store.list().map((x) => x.name),
    ["data"],
  );
  const busy = t.throws(() => store.remove("data", ["web"]), { instanceOf: VolumeError });
  t.is(busy?.code, "VOLUME_IN_USE");
  t.is(busy?.status, 409);
  t.regex(busy?.message ?? "", /in use by container\(s\) web/);
  store.remove("data", []);
  t.deepEqual(store.list(), []);
  t.is(t.throws(() => store.get("data"))?.message.includes("weft volume create data"), true);
  t.is((t.throws(() => store.create("../x")) as VolumeError).code, "INVALID_VOLUME");
});

test("--tmpfs parses size, mode and exec; Docker's default options are accepted", (t) => {
  t.deepEqual(parseTmpfs("/run"), { destination: "/run", mode: 0o1777 });
  t.deepEqual(parseTmpfs("/run/:size=64m,mode=1777"), {
    destination: "/run",
    sizeBytes: 64 * 1024 * 1024,
    mode: 0o1777,
  });
  t.deepEqual(parseTmpfs("/cache:rw,nosuid,nodev,exec,size=512k,mode=755"), {
    destination: "/cache",
    sizeBytes: 512 * 1024,
    mode: 0o755,
    exec: true,
  });
  t.deepEqual(tmpfsFrom({ destination: "/x", sizeBytes: 1 << 20 }), {
    destination: "/x",
    sizeBytes: 1 << 20,
    mode: 0o1777,
  });
});

test("--tmpfs refuses bad paths, sizes, modes and options, naming the flag", (t) => {
  for (const [value, message] of [
    ["run", /^--tmpfs "run": the container path must be absolute/],
    ["/", /not "\/"/],
    ["/run:size=lots", /size must be like 64m/],
    ["/run:size=1", /at least 4k/],
    ["/run:mode=999", /mode must be octal/],
    ["/run:suid", /unknown option "suid"/],
  ] as const) {
    const err = t.throws(() => parseTmpfs(value), { instanceOf: VolumeError }, value);
    t.regex(err?.message ?? "", message);
  }
  t.regex(t.throws(() => tmpfsFrom(42, "tmpfs[0]"))?.message ?? "", /^tmpfs\[0\] must be a string/);
  t.regex(t.throws(() => tmpfsFrom({ destination: "/x", mode: "1777" }))?.message ?? "", /tmpfs\.mode/);
  t.regex(t.throws(() => tmpfsFrom("x", "tmpfs[1]"))?.message ?? "", /^tmpfs\[1\] "x"/);
});
