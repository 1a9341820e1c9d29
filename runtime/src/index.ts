import type { Command } from "../../cli/index";

export const runtimeCommands: Command[] = [];
