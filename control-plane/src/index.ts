import type { Command } from "../../cli/index";

export const controlPlaneCommands: Command[] = [];
