export type { Command } from "./command";
export { UsageError } from "./command";
export { didYouMean } from "./did-you-mean";
export { keyValues, parseFlags } from "./flags";
export { GoTemplate } from "./go-template";
export { packageRoot } from "./paths";
export { formatTable, printList } from "./table";
