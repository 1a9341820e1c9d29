// Offline image builds from an ImageBuild spec: the surface the CLI (and tests) use.
export type { BaseImage } from "./base";
export type { BuildFormat, BuildOptions, BuildResult, BuiltConfig } from "./build";
export { buildImage, mergeConfig } from "./build";
export type { BuildErrorCode } from "./errors";
export { BuildError } from "./errors";
export type { Descriptor } from "./layout";
export { MEDIA_TYPES, REF_NAME_ANNOTATION } from "./layout";
export { parseLdd, sharedLibraries } from "./ldd";
export type { BinaryItem, BuildSpec, CopyItem, DirItem, FileItem } from "./spec";
export { loadBuildSpec, parseBuildSpec } from "./spec";
