// POST /heap_profile?seconds=N on the admin port (loopback only), as Envoy's admin has
// /heapprofiler: V8's sampling heap profiler runs for N seconds (default 10, at most 120) and the
// answer is the profile in the DevTools .heapprofile format (open it in Chrome DevTools' Memory
// tab). Every sampled allocation is kept, also those the garbage collector has freed since, so the
// profile says where the process allocates, not only what it still holds: allocation is what sets
// a proxy's garbage-collection work per request. The inspector is loaded on the first call, so a
// sidecar that is never profiled pays nothing. One profile at a time per process.
import type { Session } from "node:inspector";

export const HEAP_PROFILE_MAX_SECONDS = 120;
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

let running = false;

export class HeapProfileBusy extends Error {}

/** Samples every allocation of this process for `seconds`; rejects with HeapProfileBusy while one runs. */
export async function sampleAllocations(seconds: number): Promise<HeapProfile> {
  if (running) throw new HeapProfileBusy("a heap profile is already being taken; wait for it to finish");
  running = true;
  let session: Session | undefined;
  try {
    const { Session } = await import("node:inspector");
    session = new Session();
    session.connect();
    await post(session, "HeapProfiler.enable");
    await post(session, "HeapProfiler.startSampling", {
      samplingInterval: SAMPLING_INTERVAL,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const { profile } = (await post(session, "HeapProfiler.stopSampling")) as { profile: HeapProfile };
    return profile;
  } finally {
    session?.disconnect();
    running = false;
  }
}

/** The seconds a request asks for (10 when it names none), or an error message for a bad value. */
export function profileSeconds(query: string): number | string {
  const raw = new URLSearchParams(query).get("seconds");
  if (raw === null) return 10;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || n <= 0 || n > HEAP_PROFILE_MAX_SECONDS)
    return `seconds must be a number above 0 and at most ${HEAP_PROFILE_MAX_SECONDS}, not "${raw}"`;
  return n;
}

function post(session: Session, method: string, params: object = {}): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );
}
