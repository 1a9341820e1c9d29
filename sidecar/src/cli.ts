// `weft sidecar`: the same sidecar as dist/sidecar/sidecar.mjs, started from the weft CLI.
import type { Command } from "../../cli/index";
import { SIDECAR_USAGE } from "./options";
import { runSidecar } from "./run";

export const sidecarCommand: Command = {
  name: "sidecar",
  summary: "Run the mesh proxy in a workload's network namespace",
  usage: SIDECAR_USAGE,
  // Exits here: a drained sidecar is done even if a library left a timer behind.
  run: async (argv) => process.exit(await runSidecar(argv)),
};
