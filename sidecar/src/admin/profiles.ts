// The admin port's profiles (loopback only), as Envoy's admin has /heapprofiler and /cpuprofiler,
// each for N seconds (default 10, at most 120):
// - POST /heap_profile?seconds=N: V8's sampling heap profiler; the answer is a DevTools
//   .heapprofile (Chrome DevTools' Memory tab). Every sampled allocation is kept, also those the
//   garbage collector has freed since, so the profile says where the process allocates, not only
//   what it still holds: allocation is what sets a proxy's garbage-collection work per request.
// - POST /cpu_profile?seconds=N: V8's CPU profiler; the answer is a DevTools .cpuprofile
//   (Performance tab, or speedscope). It samples the main thread by wall clock: time the process
//   spent waiting for a core shows under the function it was in, so read it on a machine with a
//   core to spare, and `perf` for what the kernel does.
// The inspector is loaded on the first call, so a sidecar that is never profiled pays nothing. One
// profile of each kind at a time per process.
import type { Session } from "node:inspector";

export const PROFILE_MAX_SECONDS = 120;
/** Bytes between samples, on average (V8's default is 32 KiB; finer shows small per-request objects). */
const SAMPLING_INTERVAL = 4096;

/** The V8 heap profile: a call tree whose nodes carry the bytes sampled in each function itself. */
export interface HeapProfile {
  head: HeapProfileNode;
  samples: Array<{ size: number; nodeId: number; ordinal: number }>;
}

export interface HeapProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  id: number;
  children: HeapProfileNode[];
}

/** The V8 CPU profile (DevTools .cpuprofile): a call tree, each sample the id of the node it hit. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    hitCount?: number;
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Microseconds between CPU samples (V8's default is 1000). */
const CPU_SAMPLING_INTERVAL_US = 250;

export class ProfileBusy extends Error {}

const running = new Set<"heap" | "cpu">();

/** Runs `take` in an inspector session of its own, unless a profile of this kind is being taken. */
async function profile<T>(kind: "heap" | "cpu", take: (s: Session) => Promise<T>): Promise<T> {
  if (running.has(kind))
    throw new ProfileBusy(`a ${kind} profile is already being taken; wait for it to finish`);
  running.add(kind);
  let session: Session | undefined;
  try {
    const { Session } = await import("node:inspector");
    session = new Session();
    session.connect();
    return await take(session);
  } finally {
    session?.disconnect();
    running.delete(kind);
  }
}

const wait = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** Samples every allocation of this process for `seconds`; rejects with ProfileBusy while one runs. */
export function sampleAllocations(seconds: number): Promise<HeapProfile> {
  return profile("heap", async (session) => {
    await post(session, "HeapProfiler.enable");
    await post(session, "HeapProfiler.startSampling", {
      samplingInterval: SAMPLING_INTERVAL,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await wait(seconds);
    return ((await post(session, "HeapProfiler.stopSampling")) as { profile: HeapProfile }).profile;
  });
}

/** Samples where this process's main thread is for `seconds`; rejects with ProfileBusy while one runs. */
export function sampleCpu(seconds: number): Promise<CpuProfile> {
  return profile("cpu", async (session) => {
    await post(session, "Profiler.enable");
    await post(session, "Profiler.setSamplingInterval", { interval: CPU_SAMPLING_INTERVAL_US });
    await post(session, "Profiler.start");
    await wait(seconds);
    return ((await post(session, "Profiler.stop")) as { profile: CpuProfile }).profile;
  });
}

/** The seconds a request asks for (10 when it names none), or an error message for a bad value. */
export function profileSeconds(query: string): number | string {
  const raw = new URLSearchParams(query).get("seconds");
  if (raw === null) return 10;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || n <= 0 || n > PROFILE_MAX_SECONDS)
    return `seconds must be a number above 0 and at most ${PROFILE_MAX_SECONDS}, not "${raw}"`;
  return n;
}

function post(session: Session, method: string, params: object = {}): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );
}
