// Public surface of runtime/src/cgroups: host layout, OCI resources, and cgroups for weft's own processes.
export { addProcess, createCgroup, readUsage, removeCgroup } from "./cgroup";
export { CgroupError } from "./errors";
export type { CgroupLayout } from "./layout";
export { detectCgroupLayout } from "./layout";
export type { CgroupLimits, OciResources } from "./limits";
export { checkLimits, ociResources } from "./limits";
export { readOomKills } from "./oom";
