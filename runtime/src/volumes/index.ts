// Public surface of runtime/src/volumes: -v parsing and the named-volume store.
export type { VolumeErrorCode } from "./errors";
export { VolumeError } from "./errors";
export type { MountSpec } from "./parse";
export { parseVolume, VOLUME_NAME_RE } from "./parse";
export type { VolumeInfo } from "./store";
export { VolumeStore } from "./store";
