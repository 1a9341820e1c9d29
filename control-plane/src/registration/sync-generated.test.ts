// Bad registrations, searched for: valid SyncEndpoints requests (what a daemon sends for its
// containers) with values swapped for others of the same type (so they still encode: empty, long,
// odd and clashing names and addresses, ports 0 and above 65535, duplicated and emptied lists,
// odd label keys), sent over gRPC to a real control plane. Each is answered OK or INVALID_ARGUMENT
// with a reason, never INTERNAL (an exception the validation let through), and what another source
// registered before is still there, untouched, at the end. WEFT_FUZZ_SEED and WEFT_FUZZ_CASES
// explore further.
import type { ServiceError } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import test from "ava";
import type { SyncEndpointsRequest } from "../../../proto/index";
import { fuzzRun, mutateValues, replay, seededRandom } from "../../../test/support/generated";
import { syncEndpoints } from "../grpc-testing";
import { callApi, startTestControlPlane } from "../test-support";

const SEED: SyncEndpointsRequest = {
  source: "daemon:n1",
  endpoints: [
    {
      id: "c1",
      service: "web",
      address: "10.88.0.2",
      ports: [{ name: "http", port: 8080, protocol: "http" }],
      labels: { version: "v1", "weft.io/tls-mode": "mtls" },
      workload: "web-1",
      node: "n1",
      healthy: true,
    },
    {
      id: "c2",
      service: "web",
      address: "10.88.0.3",
      ports: [
        { name: "http", port: 8080, protocol: "http" },
        { name: "grpc", port: 9090, protocol: "grpc" },
      ],
      labels: { version: "v2" },
      workload: "web-2",
      node: "n1",
      healthy: false,
    },
  ],
  services: [{ name: "web", ports: [{ name: "http", port: 8080, protocol: "http" }] }],
};

const STRINGS = [
  "",
  " ",
  "x".repeat(300),
  "Ünïcödé ☃",
  "a:b",
  "a/b",
  "WEB",
  "web",
  "db",
  "agent",
  "daemon:other",
  "10.88.0.300",
  "::1",
  "0.0.0.0",
  "255.255.255.255",
  "10.96.0.1",
  "tcp",
  "h2c",
  "-",
  "a\nb",
];
const NUMBERS = [0, 1, 65535, 65536, 2 ** 31, 4294967295];

/** A value of the same type as `current`, so the request still encodes as the proto says. */
function sameType(current: unknown, r: () => number): unknown {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
  if (typeof current === "string") return pick(STRINGS);
  if (typeof current === "number") return pick(NUMBERS);
  if (typeof current === "boolean") return !current;
  if (Array.isArray(current)) return r() < 0.5 ? [] : [...current, ...current];
  if (current && typeof current === "object")
    return pick([{}, { "": "x" }, { "a b": "c" }, { k: "x".repeat(5000) }, { version: "" }]);
  return current;
}

type Outcome = { code: number; details: string };

async function sync(address: string, request: SyncEndpointsRequest): Promise<Outcome> {
  for (;;) {
    try {
      await syncEndpoints(address, request);
      return { code: status.OK, details: "" };
    } catch (err) {
      const e = err as ServiceError;
      // A source syncing faster than its token bucket allows is told to back off: wait, as it would.
      if (e.code !== status.RESOURCE_EXHAUSTED || !/syncs too often/.test(e.details)) return e;
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
  }
}

test("mutated SyncEndpoints are answered OK or INVALID_ARGUMENT, and another source's endpoints stay", async (t) => {
  const { seed, cases } = fuzzRun(300);
  const cp = await startTestControlPlane(t);
  const kept: SyncEndpointsRequest = {
    source: "daemon:keep",
    endpoints: [
      {
        id: "k1",
        service: "keep",
        address: "10.88.9.9",
        ports: [{ name: "http", port: 80, protocol: "http" }],
      },
    ],
  };
  t.is((await sync(cp.grpcAddress, kept)).code, status.OK);
  t.is((await sync(cp.grpcAddress, SEED)).code, status.OK, "the seed is a valid request");
  const keptNow = async () =>
    JSON.stringify((await callApi(cp, "GET", "/api/v1/services/keep/endpoints")).body);
  const before = await keptNow();
  t.regex(before, /10\.88\.9\.9/);
  const outcomes = new Map<number, number>();
  for (let i = 0; i < cases; i++) {
    const r = seededRandom(seed + i);
    // An edit at a list index another edit removed leaves a hole, which would not encode: dropped.
    const request = JSON.parse(
      JSON.stringify(mutateValues(r, SEED, { replace: sameType, drop: 0.1 }), (_k, v) =>
        Array.isArray(v) ? v.filter((x) => x !== undefined && x !== null) : v,
      ),
    ) as SyncEndpointsRequest;
    const got = await sync(cp.grpcAddress, request);
    outcomes.set(got.code, (outcomes.get(got.code) ?? 0) + 1);
    const why = `${replay(seed + i)}: ${JSON.stringify(request).slice(0, 600)} -> ${got.code} ${got.details}`;
    t.true(got.code === status.OK || got.code === status.INVALID_ARGUMENT, why);
    if (got.code !== status.OK) t.true(got.details.trim().length > 0, why);
  }
  t.log(`${cases} mutated syncs: ${[...outcomes].map(([k, v]) => `${v}x ${status[k]}`).join(", ")}`);
  // "daemon:keep" never synced again: a source changes only its own endpoints.
  t.is(await keptNow(), before);
  t.is((await sync(cp.grpcAddress, SEED)).code, status.OK, "the seed is still taken");
});
