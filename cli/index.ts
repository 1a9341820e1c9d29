export type { Command } from "./command";
export { UsageError } from "./command";
export { keyValues, parseFlags } from "./flags";
export { packageRoot } from "./paths";
export { formatTable, printList } from "./table";
