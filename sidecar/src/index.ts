import type { Command } from "../../cli/index";

export const sidecarCommands: Command[] = [];
