// Runs the sidecar until SIGTERM/SIGINT: the shared body of `weft sidecar` and dist/sidecar/sidecar.mjs.
import { parseSidecarFlags } from "./options";
import { startSidecar } from "./sidecar";

/** Drain budget on SIGTERM (docs/INTERFACES.md: in-flight requests get up to 5 s). */
const DRAIN_MS = 5000;

/** Starts from command-line flags; resolves to the exit code once a signal has drained it. */
export async function runSidecar(argv: string[]): Promise<number> {
  const options = parseSidecarFlags(argv);
  const sidecar = await startSidecar(options);
  const p = sidecar.ports;
  console.log(
    `sidecar ready workload=${options.workload} outbound=${p.outbound} inbound=${p.inbound} admin=127.0.0.1:${p.admin} health=${p.health} metrics=${p.metrics} dns=${p.dns}`,
  );
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      console.error(`weft sidecar: ${signal}: draining (up to ${DRAIN_MS} ms)`);
      sidecar.drain(DRAIN_MS).then(() => resolve(0));
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
