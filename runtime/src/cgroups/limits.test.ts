import test from "ava";
import { CgroupError } from "./errors";
import { checkLimits, MIN_MEMORY_BYTES, ociResources } from "./limits";

test("limits become OCI linux.resources with a 100 ms CPU period", (t) => {
  t.deepEqual(ociResources({ memoryBytes: 256 * 1024 * 1024, cpus: 0.5, pids: 100 }), {
    memory: { limit: 268435456 },
    cpu: { quota: 50000, period: 100000 },
    pids: { limit: 100 },
  });
});

test("unset limits are left out, so the container is unlimited there", (t) => {
  t.deepEqual(ociResources({}), {});
  t.deepEqual(ociResources({ pids: 1 }), { pids: { limit: 1 } });
});

test("fractional CPUs round to whole microseconds", (t) => {
  t.deepEqual(checkLimits({ cpus: 1.333333 }, 4).cpu, { quotaUs: 133333, periodUs: 100000 });
  t.deepEqual(checkLimits({ cpus: 0.01 }, 4).cpu, { quotaUs: 1000, periodUs: 100000 });
});

const invalid: Array<[string, Parameters<typeof checkLimits>[0], RegExp]> = [
  ["memory below 6 MiB", { memoryBytes: MIN_MEMORY_BYTES - 1 }, /memoryBytes must be at least 6 MiB/],
  ["fractional memory", { memoryBytes: 10_000_000.5 }, /memoryBytes must be a whole number/],
  ["zero cpus", { cpus: 0 }, /cpus must be a number above 0/],
  ["negative cpus", { cpus: -1 }, /cpus must be a number above 0/],
  ["NaN cpus", { cpus: Number.NaN }, /cpus must be a number above 0/],
  ["more cpus than the host", { cpus: 4.5 }, /cpus must be at most this host's 4 CPUs/],
  ["a sliver of cpu", { cpus: 0.001 }, /cpus must be at least 0.01/],
  ["zero pids", { pids: 0 }, /pids must be a whole number of at least 1/],
  ["fractional pids", { pids: 2.5 }, /pids must be a whole number of at least 1/],
];
for (const [name, limits, message] of invalid) {
  test(`${name} is refused naming the field`, (t) => {
    const err = t.throws(() => checkLimits(limits, 4), { instanceOf: CgroupError });
    t.is(err.code, "INVALID_LIMIT");
    t.regex(err.message, message);
  });
}

test("the host's CPU count bounds ociResources", (t) => {
  t.is(t.throws(() => ociResources({ cpus: 100_000 }), { instanceOf: CgroupError }).code, "INVALID_LIMIT");
});

test("cpu shares go to linux.resources.cpu.shares, alone or with a quota; out of range is refused", (t) => {
  t.deepEqual(ociResources({ cpuShares: 512 }), { cpu: { shares: 512 } });
  t.deepEqual(ociResources({ cpus: 1, cpuShares: 2048 }).cpu, {
    quota: 100000,
    period: 100000,
    shares: 2048,
  });
  t.throws(() => ociResources({ cpuShares: 1 }), {
    message: /^cpuShares must be a whole number from 2 to 262144/,
  });
});
