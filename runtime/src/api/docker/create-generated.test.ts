// Bad container create requests, searched for: the body `docker run` sends with most of its flags
// (HostConfig with binds, mounts, limits, ports, restart policy, healthcheck...), with values swapped
// for the wrong types and shapes and keys dropped, through the same two steps the Engine API's
// POST /containers/create takes before the engine does anything (the Docker body to Weft's, then
// the run spec's validation). Each ends in a spec or an error the API answers with 4xx; no other
// exception (a TypeError was a 500 with a stack's message, and nothing to act on).
// WEFT_FUZZ_SEED and WEFT_FUZZ_CASES explore further.
import test from "ava";
import { validateRunSpec } from "../../engine/validate";
import { httpStatusOf } from "../../errors";
import { weftBodyOf } from "./create-body";

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

function mutate(r: () => number, body: unknown): unknown {
  const root = structuredClone(body);
  const slots: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v))
      for (const [i, x] of v.entries()) {
        slots.push([v, i]);
        walk(x);
      }
    else if (v && typeof v === "object")
      for (const [k, x] of Object.entries(v)) {
        slots.push([v as Record<string, unknown>, k]);
        walk(x);
      }
  };
  walk(root);
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const [holder, key] = slots[Math.floor(r() * slots.length)] as [Record<string, unknown>, string];
    if (r() < 0.1) delete holder[key];
    else holder[key] = WRONG[Math.floor(r() * WRONG.length)];
  }
  return root;
}

test("mutated docker run bodies become a run spec or a 4xx error, nothing else", (t) => {
  const seed = Number(process.env.WEFT_FUZZ_SEED ?? 20261202);
  const cases = Number(process.env.WEFT_FUZZ_CASES ?? 3000);
  t.truthy(validateRunSpec(weftBodyOf(DOCKER_RUN, "web")), "the unmutated body is valid");
  let refused = 0;
  for (let i = 0; i < cases; i++) {
    // As it arrives: through JSON (a deleted array item becomes null, as no client can send a hole).
    const body = JSON.parse(JSON.stringify(mutate(rng(seed + i), DOCKER_RUN))) as unknown;
    try {
      validateRunSpec(weftBodyOf(body, "web"));
    } catch (err) {
      const status = httpStatusOf(err);
      const where = `seed ${seed + i} (WEFT_FUZZ_SEED=${seed + i} WEFT_FUZZ_CASES=1): ${JSON.stringify(body)}`;
      if (status >= 400 && status < 500) refused++;
      else t.fail(`${where}\n -> ${status}: ${err instanceof Error ? err.stack : String(err)}`);
    }
  }
  t.log(`${cases} mutated bodies, ${refused} refused with a 4xx, the rest valid specs`);
  t.true(refused > 0 && refused < cases, "the mutations reach both outcomes");
});
