/**
 * Why `weft image build` failed, as a stable code: BAD_SPEC (the spec file is missing, not YAML, or a
 * field has the wrong type or value), UNSAFE_PATH (a copy source leaves the spec's folder, or a
 * destination leaves the image root), MISSING_SOURCE (a file, binary or shared library to put in the
 * image does not exist on this host), TOOL_FAILED (tar, cp or ldd failed).
 */
export type BuildErrorCode = "BAD_SPEC" | "UNSAFE_PATH" | "MISSING_SOURCE" | "TOOL_FAILED";

export class BuildError extends Error {
  override name = "BuildError";
  constructor(
    readonly code: BuildErrorCode,
    message: string,
  ) {
    super(message);
  }
}
