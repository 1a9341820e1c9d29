import test from "ava";
import type { ContainerState } from "../../engine/types";
import { containerJson, humanDuration, statusText } from "./container-json";
import { linkedContainers, weftBodyOf } from "./create-body";
import { serviceOf } from "./mesh-service";

test("docker run flags map onto the Weft run body", (t) => {
  const body = weftBodyOf(
    {
      Image: "busybox",
      Cmd: ["sleep", "100"],
      Entrypoint: ["/bin/sh", "-c"],
      Env: ["A=1"],
      Labels: { "weft.service": "shop", "weft.sidecar": "false", "weft.port": "8080/http" },
      WorkingDir: "/srv",
      User: "1000:1000",
      Hostname: "box",
      Tty: true,
      OpenStdin: true,
      StdinOnce: true,
      ExposedPorts: { "8080/tcp": {}, "9090/tcp": {} },
      StopSignal: "SIGINT",
      StopTimeout: 3,
      Healthcheck: { Test: ["CMD-SHELL", "true"], Interval: 2e9, Retries: 4 },
      HostConfig: {
        Binds: ["/data:/data:ro"],
        Mounts: [
          { Type: "volume", Source: "cache", Target: "/cache" },
          { Type: "tmpfs", Target: "/scratch", TmpfsOptions: { SizeBytes: 1048576 } },
        ],
        Memory: 64 * 1024 * 1024,
        CpuQuota: 50_000,
        CpuPeriod: 100_000,
        CpuShares: 512,
        PidsLimit: 50,
        CapAdd: ["NET_ADMIN"],
        CapDrop: ["MKNOD"],
        ReadonlyRootfs: true,
        AutoRemove: true,
        RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
        PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "18080" }] },
        Tmpfs: { "/run": "size=64m" },
        SecurityOpt: ["seccomp=unconfined"],
        NetworkMode: "default",
        MemorySwappiness: -1,
        LogConfig: { Type: "", Config: {} },
        ConsoleSize: [33, 101],
      },
    },
    "web",
  );
  t.like(body, {
    image: "busybox",
    name: "web",
    cmd: ["sleep", "100"],
    entrypoint: ["/bin/sh", "-c"],
    service: "shop",
    sidecar: false,
    workdir: "/srv",
    user: "1000:1000",
    hostname: "box",
    tty: true,
    interactive: true,
    stdinOnce: true,
    consoleSize: { rows: 33, cols: 101 },
    stopSignal: "SIGINT",
    stopTimeoutS: 3,
    memoryBytes: 64 * 1024 * 1024,
    cpus: 0.5,
    cpuShares: 512,
    pids: 50,
    readOnly: true,
    autoRemove: true,
    restart: { name: "on-failure", maxRetries: 3 },
  });
  t.deepEqual(body.ports, ["8080/http", "9090"]);
  t.deepEqual(body.volumes, ["/data:/data:ro", "cache:/cache"]);
  t.deepEqual(body.tmpfs, ["/run:size=64m", { destination: "/scratch", sizeBytes: 1048576, mode: 0o1777 }]);
  t.deepEqual(body.publish, ["127.0.0.1:18080:8080"]);
  t.deepEqual(body.healthcheck, { exec: ["/bin/sh", "-c", "true"], intervalMs: 2000, retries: 4 });
  t.deepEqual(body.securityOpt, ["seccomp=unconfined"]);
});

test("what weft cannot do is refused naming the Docker field", (t) => {
  const refused = (body: object, field: RegExp) => {
    const err = t.throws(() => weftBodyOf({ Image: "busybox", ...body }, undefined));
    t.regex(err?.message ?? "", field);
    t.is((err as unknown as { status: number }).status, 400);
  };
  refused({ HostConfig: { Dns: ["8.8.8.8"] } }, /HostConfig\.Dns is not supported/);
  refused({ HostConfig: { NetworkMode: "host" } }, /NetworkMode "host" is not supported/);
  refused({ HostConfig: { Devices: [{ PathOnHost: "/dev/fuse" }] } }, /HostConfig\.Devices/);
  refused({ Volumes: { "/data": {} } }, /anonymous volumes/);
  refused({ HostConfig: { Mounts: [{ Type: "npipe", Target: "/x" }] } }, /Mounts\[0\]\.Type "npipe"/);
  refused({ ExposedPorts: { "53/udp": {} } }, /only tcp ports/);
  refused({ Labels: { "weft.sidecar": "maybe" } }, /weft\.sidecar must be "true" or "false"/);
  refused({ HostConfig: { LogConfig: { Type: "syslog" } } }, /LogConfig\.Type "syslog"/);
});

// What docker-compose 1.29 sends for a service "api" of project "dc" with a named volume.
const composeCreate = {
  Image: "shop",
  Labels: { "com.docker.compose.project": "dc", "com.docker.compose.service": "api" },
  Volumes: { "/data": {} },
  HostConfig: { NetworkMode: "dc_default", Binds: ["dc_data:/data:rw"], Links: [] },
  NetworkingConfig: { EndpointsConfig: { dc_default: { Aliases: ["api"] } } },
};

test("docker-compose's create: its network with the service's alias, its service, its volume", (t) => {
  const body = weftBodyOf(composeCreate, "dc_api_1");
  t.deepEqual(body.networks, { dc_default: { aliases: ["api"] } });
  // The compose service is the mesh service, so "api" resolves through the sidecar's DNS.
  t.is(body.service, "api");
  t.deepEqual(body.volumes, ["dc_data:/data:rw"]);
  // The default network under any of its names is no named network.
  for (const mode of ["", "default", "bridge", "weft"]) {
    t.is(
      weftBodyOf({ Image: "shop", HostConfig: { NetworkMode: mode } }, undefined).networks,
      undefined,
      mode,
    );
  }
  // API 1.44 clients put every network in EndpointsConfig.
  t.deepEqual(
    weftBodyOf(
      { Image: "shop", NetworkingConfig: { EndpointsConfig: { front: {}, back: { Aliases: ["db"] } } } },
      undefined,
    ).networks,
    { front: { aliases: [] }, back: { aliases: ["db"] } },
  );
});

test("weft.service wins over compose's service; a compose name that is no DNS label joins none, with a warning", (t) => {
  t.deepEqual(serviceOf({ "weft.service": "shop", "com.docker.compose.service": "api" }), {
    service: "shop",
  });
  const odd = serviceOf({ "com.docker.compose.service": "web_app" });
  t.is(odd.service, undefined);
  t.regex(odd.warning ?? "", /"web_app" is not a DNS label.*weft\.service/);
  t.deepEqual(serviceOf({}), {});
});

test("links name containers once each; a mount point no mount covers is an anonymous volume", (t) => {
  // compose's `run` links its one-off container to the service's under three names.
  const links = ["dc_client_1:client", "dc_client_1:dc_client_1", "/dc_client_1:client_1"];
  t.deepEqual(linkedContainers({ HostConfig: { Links: links } }), ["dc_client_1"]);
  const err = t.throws(() =>
    weftBodyOf({ ...composeCreate, Volumes: { "/data": {}, "/cache": {} } }, undefined),
  );
  t.regex(err?.message ?? "", /anonymous volumes \(\/cache\)/);
});

test("a label or tmpfs option that is not a string is a 400 naming it, as Docker's types say", (t) => {
  // A number in weft.port was a TypeError: a 500 that told the client nothing.
  for (const [body, field] of [
    [{ Labels: { "weft.port": 8080 } }, /Labels\["weft\.port"\] must be a string, got 8080/],
    [{ Labels: { team: ["a"] } }, /Labels\["team"\] must be a string, got \["a"\]/],
    [{ HostConfig: { Tmpfs: { "/run": { size: "64m" } } } }, /HostConfig\.Tmpfs\["\/run"\] must be a string/],
  ] as const) {
    const err = t.throws(() => weftBodyOf({ Image: "busybox", ...body }, undefined));
    t.regex(err?.message ?? "", field);
    t.is((err as unknown as { status: number }).status, 400);
  }
  // null is "", as Docker's Go decoding leaves it.
  t.deepEqual(weftBodyOf({ Image: "busybox", Labels: { team: null } }, undefined).labels, { team: "" });
});

test("docker ps status reads as Docker's", (t) => {
  const now = new Date("2026-01-01T00:01:00Z");
  const base = { created: "2026-01-01T00:00:00Z" } as ContainerState;
  t.is(statusText({ ...base, status: "running", startedAt: "2026-01-01T00:00:57Z" }, now), "Up 3 seconds");
  t.is(
    statusText({ ...base, status: "exited", exitCode: 0, finishedAt: "2026-01-01T00:00:58Z" }, now),
    "Exited (0) 2 seconds ago",
  );
  t.is(statusText({ ...base, status: "created" }, now), "Created");
  t.is(
    statusText(
      {
        ...base,
        status: "running",
        startedAt: "2026-01-01T00:00:00Z",
        health: { status: "healthy", failingStreak: 0, log: [] },
      },
      now,
    ),
    "Up About a minute (healthy)",
  );
  t.is(humanDuration(500), "Less than a second");
  t.is(humanDuration(3 * 3600_000), "3 hours");
});

test("inspect: one entry per network with the one address, the aliases and the short id once", (t) => {
  const id = "53cc149ef2431d6d0d1a0c5bb8b32e1b38f2f1b5cbd9ab80ebd4bd54a1f7ac10";
  const state = {
    id,
    name: "dc_api_1",
    image: "shop",
    imageId: "ab".repeat(32),
    created: "2026-01-01T00:00:00Z",
    status: "running",
    address: "10.88.0.7",
    gateway: "10.88.0.1",
    netns: "weft-x",
    hostVeth: "wv53cc149ef2",
    cmd: ["sh"],
    env: [],
    ports: [],
    labels: {},
    sidecar: true,
    uid: 0,
    gid: 0,
    cgroupPath: "/x",
    // docker-compose connects a second network with the short id among the aliases it sends.
    networks: {
      dc_back: { aliases: ["api", "catalog-api"] },
      dc_front: { aliases: ["api", id.slice(0, 12)] },
    },
  } as ContainerState;
  const view = { ids: new Map([["dc_back", "b".repeat(64)]]) };
  const json = containerJson(state, view) as unknown as {
    HostConfig: { NetworkMode: string };
    NetworkSettings: {
      Networks: Record<string, { Aliases: string[]; NetworkID: string; IPAddress: string }>;
    };
  };
  t.is(json.HostConfig.NetworkMode, "dc_back");
  t.deepEqual(json.NetworkSettings.Networks.dc_back, {
    ...json.NetworkSettings.Networks.dc_back,
    Aliases: ["api", "catalog-api", id.slice(0, 12)],
    NetworkID: "b".repeat(64),
    IPAddress: "10.88.0.7",
  });
  t.deepEqual(json.NetworkSettings.Networks.dc_front?.Aliases, ["api", id.slice(0, 12)]);
});

test("a bare Env name (docker run -e NAME, compose's environment: [NAME] with NAME unset) is left unset, as Docker's", (t) => {
  const body = weftBodyOf({ Image: "busybox", Env: ["A=1", "NOT_SET_ON_CLIENT", "EMPTY="] }, undefined);
  t.deepEqual(body.env, ["A=1", "EMPTY="]);
  const err = t.throws(() => weftBodyOf({ Image: "busybox", Env: ["=oops"] }, undefined));
  t.regex(err?.message ?? "", /invalid environment variable: "=oops" has no name/);
});

test("inspect's HostConfig has Docker's fields, and what it says weft does is taken back by create", (t) => {
  const state = {
    id: "c".repeat(64),
    name: "app",
    image: "busybox",
    imageId: "d".repeat(64),
    cmd: ["sleep", "1"],
    env: [],
    labels: {},
    ports: [],
    status: "created",
    created: "2026-12-03T10:00:00Z",
    uid: 0,
    gid: 0,
  } as unknown as ContainerState;
  const host = containerJson(state).HostConfig as Record<string, unknown>;
  // Keys scripts read with docker inspect -f, which fails on a missing one.
  for (const key of ["CpuQuota", "CpuPeriod", "MemorySwap", "Dns", "ShmSize", "ExtraHosts", "OomKillDisable"])
    t.true(key in host, key);
  t.is(host.ShmSize, 67108864);
  t.notThrows(() =>
    weftBodyOf({ Image: "busybox", HostConfig: { ...host, Binds: [], PortBindings: {} } }, undefined),
  );
});
