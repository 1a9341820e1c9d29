// Bad container create requests, searched for: the body `docker run` sends with most of its flags
// (HostConfig with binds, mounts, limits, ports, restart policy, healthcheck...), with values swapped
// for the wrong types and shapes and keys dropped, through the same two steps the Engine API's
// POST /containers/create takes before the engine does anything (the Docker body to Weft's, then
// the run spec's validation). Each ends in a spec or an error the API answers with 4xx; no other
// exception (a TypeError was a 500 with a stack's message, and nothing to act on).
// WEFT_FUZZ_SEED and WEFT_FUZZ_CASES explore further.
import test from "ava";
import { fuzzRun, mutateValues, replay, seededRandom as rng } from "../../../../test/support/generated";
import { validateRunSpec } from "../../engine/validate";
import { httpStatusOf } from "../../errors";
import { weftBodyOf } from "./create-body";

const DOCKER_RUN = {
  Image: "busybox",
  Cmd: ["sleep", "100"],
  Entrypoint: ["/bin/sh", "-c"],
  Env: ["A=1", "B="],
  Labels: { "weft.service": "shop", "weft.port": "8080/http", team: "a" },
  WorkingDir: "/srv",
  User: "1000:1000",
  Hostname: "box",
  Tty: true,
  OpenStdin: false,
  ExposedPorts: { "8080/tcp": {}, "9090/tcp": {} },
  StopSignal: "SIGINT",
  StopTimeout: 3,
  Healthcheck: { Test: ["CMD-SHELL", "true"], Interval: 2e9, Timeout: 1e9, Retries: 4, StartPeriod: 5e9 },
  HostConfig: {
    Binds: ["/data:/data:ro", "cache:/cache"],
    Mounts: [
      { Type: "volume", Source: "cache2", Target: "/cache2" },
      { Type: "tmpfs", Target: "/scratch", TmpfsOptions: { SizeBytes: 1048576 } },
      { Type: "bind", Source: "/srv", Target: "/srv", ReadOnly: true },
    ],
    Memory: 64 * 1024 * 1024,
    CpuQuota: 50_000,
    CpuPeriod: 100_000,
    CpuShares: 512,
    NanoCpus: 0,
    PidsLimit: 50,
    CapAdd: ["NET_ADMIN"],
    CapDrop: ["MKNOD"],
    ReadonlyRootfs: true,
    AutoRemove: false,
    RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
    PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "18080" }] },
    Tmpfs: { "/run": "size=64m" },
    SecurityOpt: ["no-new-privileges"],
    NetworkMode: "default",
    LogConfig: { Type: "", Config: {} },
  },
};

const WRONG: unknown[] = [
  null,
  0,
  -1,
  1.5,
  2 ** 63,
  "",
  "x",
  "-1",
  "1:2:3",
  "../../etc",
  true,
  [],
  {},
  [null],
  [{}],
  { a: 1 },
];

const mutate = (r: () => number, body: unknown) => mutateValues(r, body, { wrong: WRONG, drop: 0.1 });

test("mutated docker run bodies become a run spec or a 4xx error, nothing else", (t) => {
  const { seed, cases } = fuzzRun(3000);
  t.truthy(validateRunSpec(weftBodyOf(DOCKER_RUN, "web")), "the unmutated body is valid");
  let refused = 0;
  for (let i = 0; i < cases; i++) {
    // As it arrives: through JSON.
    const body = JSON.parse(JSON.stringify(mutate(rng(seed + i), DOCKER_RUN))) as unknown;
    try {
      validateRunSpec(weftBodyOf(body, "web"));
    } catch (err) {
      const status = httpStatusOf(err);
      const where = `${replay(seed + i)}: ${JSON.stringify(body)}`;
      if (status >= 400 && status < 500) refused++;
      else t.fail(`${where}\n -> ${status}: ${err instanceof Error ? err.stack : String(err)}`);
    }
  }
  t.log(`${cases} mutated bodies, ${refused} refused with a 4xx, the rest valid specs`);
  t.true(refused > 0 && refused < cases, "the mutations reach both outcomes");
});
