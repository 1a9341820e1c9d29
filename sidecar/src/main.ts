// Entry of dist/sidecar/sidecar.mjs, the self-contained sidecar bundle the daemon starts in a workload netns.
import { UsageError } from "../../cli/index";
import { SIDECAR_USAGE } from "./options";
import { runSidecar } from "./run";

runSidecar(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof UsageError) console.error(`weft sidecar: ${err.message}\n\n${SIDECAR_USAGE}`);
    else console.error(`weft sidecar: ${err.message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
