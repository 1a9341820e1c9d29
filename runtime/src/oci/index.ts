export {
  ALL_CAPABILITIES,
  effectiveCapabilities,
  hostCapabilities,
  normalizeCapability,
} from "./capabilities";
export type { OciErrorCode } from "./errors";
export { OciError } from "./errors";
export type { EtcFiles, EtcOptions } from "./etc";
export { writeEtcFiles } from "./etc";
export type { RuncErrorCode, RuncState } from "./runc";
export { Runc, RuncError } from "./runc";
export type { OciSeccomp, OciSeccompRule } from "./seccomp";
export { DEFAULT_SECCOMP_PROFILE, defaultSeccomp, readSeccompProfile, seccompFor } from "./seccomp";
export type { OciDeviceRule, OciIdMapping, OciMount, OciSpec, SpecOptions } from "./spec";
export {
  buildSpec,
  DEFAULT_CAPABILITIES,
  DEFAULT_DEVICE_RULES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  tmpfsMount,
} from "./spec";
