import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { SIDECAR_NODE_FLAGS } from "../../../sidecar/src/index";
import { connectResult } from "../network/testing";
import { SidecarInjector } from "./injector";
import { installSidecarBundle } from "./install";
import { sidecarCommand } from "./sidecar-args";

test("the bundle is installed readable by uid 1337 and the state dir is traversable", (t) => {
  const root = mkdtempSync(join(tmpdir(), "weft-inject-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  chmodSync(root, 0o755);
  const dist = join(root, "dist");
  mkdirSync(join(dist, "sidecar", "maps"), { recursive: true, mode: 0o700 });
  writeFileSync(join(dist, "sidecar", "sidecar.mjs"), "//", { mode: 0o600 });
  writeFileSync(join(dist, "sidecar", "chunk-a.mjs"), "//", { mode: 0o600 });
  writeFileSync(join(dist, "sidecar", "origdst.node"), "", { mode: 0o600 });
  writeFileSync(join(dist, "sidecar", "maps", "a.map"), "", { mode: 0o600 });
  const state = join(root, "state");
  const script = installSidecarBundle(state, dist);
  t.is(script, join(state, "sidecar", "sidecar.mjs"));
  const mode = (p: string) => statSync(p).mode & 0o777;
  t.is(mode(state), 0o711);
  t.is(mode(join(state, "sidecar")), 0o755);
  t.is(mode(join(state, "sidecar", "maps")), 0o755);
  t.is(mode(script), 0o644);
  t.is(mode(join(state, "sidecar", "chunk-a.mjs")), 0o644);
  t.is(mode(join(state, "sidecar", "maps", "a.map")), 0o644);
});

test("a state dir under a folder uid 1337 cannot search is refused with the fix", (t) => {
  const root = mkdtempSync(join(tmpdir(), "weft-inject-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dist = join(root, "dist");
  mkdirSync(join(dist, "sidecar"), { recursive: true });
  writeFileSync(join(dist, "sidecar", "sidecar.mjs"), "");
  writeFileSync(join(dist, "sidecar", "origdst.node"), "");
  t.throws(() => installSidecarBundle(join(root, "state"), dist), {
    message: `the sidecar (uid 1337) cannot reach the state dir: ${root} is not searchable by others; chmod o+x ${root} or choose another --state-dir`,
  });
});

test("a missing build is reported with the command that makes it", (t) => {
  const root = mkdtempSync(join(tmpdir(), "weft-inject-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.throws(() => installSidecarBundle(join(root, "state"), join(root, "dist")), {
    message: /missing; build it with 'npm run build'/,
  });
});

test("the sidecar enters the netns before dropping to 1337 and gets the workload's identity", (t) => {
  const argv = sidecarCommand({
    nodePath: "/usr/bin/node",
    script: "/s/sidecar/sidecar.mjs",
    controlPlane: "unix:///run/weft/cp.sock",
    start: {
      id: "0123456789abcdef",
      name: "web",
      dir: "/s/containers/x",
      netns: "weft-0123",
      netnsPath: "/var/run/netns/weft-0123",
      address: "10.88.0.2",
      service: "web",
      ports: [
        { port: 8080, protocol: "http" },
        { port: 9000, protocol: "tcp" },
      ],
      labels: { version: "v2" },
    },
  });
  t.deepEqual(argv, [
    "nsenter",
    "--net=/var/run/netns/weft-0123",
    "-S",
    "1337",
    "-G",
    "1337",
    "--",
    "/usr/bin/node",
    ...SIDECAR_NODE_FLAGS,
    "/s/sidecar/sidecar.mjs",
    "--control-plane",
    "unix:///run/weft/cp.sock",
    "--node-id",
    "web.0123456789ab",
    "--workload",
    "web",
    "--address",
    "10.88.0.2",
    "--service",
    "web",
    "--port",
    "8080/http",
    "--port",
    "9000/tcp",
    "--label",
    "version=v2",
  ]);
});

/**
 * An injector whose "sidecar" is `script` (run by sh: a stand-in for node that drops its flags runs
 * sidecar.mjs with sh), in this process's netns; `cgroups` records what it made and removed.
 */
function fakeSidecarInjector(t: ExecutionContext, script: string, readyTimeoutMs?: number) {
  const root = mkdtempSync(join(tmpdir(), "weft-inject-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  chmodSync(root, 0o755);
  const dist = join(root, "dist");
  mkdirSync(join(dist, "sidecar"), { recursive: true });
  const fakeNode = join(root, "fake-node");
  // A shell loop, not a JS template: drops every leading "--flag", then runs sh on the rest.
  const dropFlags = [
    "#!/bin/sh",
    'while [ "$' + '{1#--}" != "$1" ]; do shift; done',
    'exec /bin/sh "$@"',
    "",
  ];
  writeFileSync(fakeNode, dropFlags.join("\n"), { mode: 0o755 });
  writeFileSync(join(dist, "sidecar", "sidecar.mjs"), script);
  writeFileSync(join(dist, "sidecar", "origdst.node"), "");
  const containerDir = join(root, "containers", "c1");
  mkdirSync(containerDir, { recursive: true });
  const cgroups: string[] = [];
  const injector = new SidecarInjector({
    stateDir: join(root, "state"),
    distDir: dist,
    controlPlane: "unix:///nowhere/cp.sock",
    cgroupParent: "weft-test",
    nodePath: fakeNode,
    readyTimeoutMs,
    cgroups: {
      create: async (path) => void cgroups.push(`+${path}`),
      addProcess: async () => {},
      remove: async (path) => void cgroups.push(`-${path}`),
    },
    rules: () => "*nat\nCOMMIT\n",
    // Rules go in while the sidecar boots (the app is not running yet); a failed start's netns, rules
    // included, is removed by the engine's rollback.
    applyIptables: async () => {},
    clock: { now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  const start = (address: string) =>
    injector.start({
      id: "c1c1c1c1c1c1c1c1",
      name: "web",
      dir: containerDir,
      netns: "host",
      netnsPath: `/proc/${process.pid}/ns/net`,
      address,
      ports: [],
      labels: {},
    });
  return { start, cgroups };
}

test("a sidecar that dies before it is ready fails the start with its log, and its cgroup is removed", async (t) => {
  const { start, cgroups } = fakeSidecarInjector(
    t,
    'echo "cannot reach the control plane at $2" >&2; exit 1\n',
  );
  const err = await t.throwsAsync(start("127.0.0.1"));
  t.is((err as Error & { code: string }).code, "SIDECAR_FAILED");
  t.regex(err!.message, /the sidecar of web exited with code 1 before it was ready/);
  t.regex(err!.message, /cannot reach the control plane at unix:\/\/\/nowhere\/cp\.sock/);
  t.deepEqual(cgroups, ["+/weft-test/c1c1c1c1c1c1c1c1-sidecar", "-/weft-test/c1c1c1c1c1c1c1c1-sidecar"]);
});

test("a sidecar that stays unready fails the start with the reason its health port gives, and is stopped", async (t) => {
  // An address of its own on loopback, so the health port cannot collide with another test's.
  const address = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
  const server = `require("http").createServer((q, s) => { s.statusCode = 503; s.end("not ready: loading tracing and access logging\\n"); }).listen(15021, "${address}")`;
  const { start, cgroups } = fakeSidecarInjector(t, `exec ${process.execPath} -e '${server}'\n`, 1500);
  const err = await t.throwsAsync(start(address));
  t.is((err as Error & { code: string }).code, "SIDECAR_FAILED");
  t.regex(
    err!.message,
    /was not ready within 1\.5 s \(.*: HTTP 503: not ready: loading tracing and access logging\)/,
  );
  t.deepEqual(cgroups, ["+/weft-test/c1c1c1c1c1c1c1c1-sidecar", "-/weft-test/c1c1c1c1c1c1c1c1-sidecar"]);
  t.is(await connectResult(15021, address), "ECONNREFUSED", "the sidecar was stopped");
});
