// Run as a process of its own by young-generation.test.ts (a test process's new space has already
// grown while it loaded, and the cap never shrinks it): caps new space at its size now (at least
// 4 MB), allocates as a server does, stops the cap, allocates again; prints the sizes as JSON.
import v8 from "node:v8";
import { capYoungGeneration } from "../young-generation";

const newSpaceBytes = () =>
  v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;

/** Allocates for `ms`, keeping a rolling window of objects alive across scavenges (as requests in
 * flight and batches waiting to be sent are), yielding to the event loop every 200 KB or so, as a
 * server does between socket events. */
async function churn(ms: number): Promise<void> {
  const kept: object[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (let i = 0; i < 2_000; i++) {
      const o = { i, s: `item ${i}`, a: [i, i + 1] };
      if (i % 4 === 0) kept.push(o);
    }
    if (kept.length > 100_000) kept.splice(0, 50_000);
    await new Promise((r) => setTimeout(r, 0));
  }
}

const capBytes = Math.max(newSpaceBytes(), 4 * 1024 * 1024);
const cap = capYoungGeneration(capBytes, 5);
await churn(1500);
const capped = newSpaceBytes();
const seen = cap.sizeBytes();
cap.stop();
await churn(1500);
console.log(JSON.stringify({ capBytes, capped, seen, afterStop: newSpaceBytes() }));
