// Public surface of runtime/src/volumes: -v and --tmpfs parsing, the named-volume store, and seeding
// a new volume from the image.
export type { VolumeErrorCode } from "./errors";
export { VolumeError } from "./errors";
export type { MountSpec } from "./parse";
export { parseVolume, VOLUME_NAME_RE } from "./parse";
export type { SeedResult } from "./seed";
export { resolveInRoot, seedVolume } from "./seed";
export type { VolumeInfo } from "./store";
export { VolumeStore } from "./store";
export { parseTmpfs, tmpfsFrom } from "./tmpfs";
