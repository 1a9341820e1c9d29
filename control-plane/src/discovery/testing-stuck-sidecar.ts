// A sidecar stand-in in its own process, for tests that stop it (SIGSTOP) to play a stuck sidecar:
// it subscribes to the endpoints of the services named in argv, ACKs, and prints "ready" once the
// first response arrived. Run with `node --import tsx testing-stuck-sidecar.ts ADDRESS NAME...`.
import { TYPE_ENDPOINTS } from "../../../proto/index";
import { openRawStream } from "./testing-stream";

const [address, ...names] = process.argv.slice(2);
if (!address) throw new Error("usage: testing-stuck-sidecar.ts ADDRESS SERVICE...");
const stream = openRawStream(address, { id: "stuck", workload: "stuck" });
stream.subscribe(TYPE_ENDPOINTS, names);
let announced = false;
setInterval(() => {
  for (const r of stream.responses.splice(0)) {
    stream.ack(r, names);
    if (!announced) process.stdout.write("ready\n");
    announced = true;
  }
}, 5);
