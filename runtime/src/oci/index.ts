export type { EtcFiles, EtcOptions } from "./etc";
export { writeEtcFiles } from "./etc";
export type { RuncErrorCode, RuncState } from "./runc";
export { Runc, RuncError } from "./runc";
export type { OciDeviceRule, OciMount, OciSpec, SpecOptions } from "./spec";
export {
  buildSpec,
  DEFAULT_CAPABILITIES,
  DEFAULT_DEVICE_RULES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
} from "./spec";
