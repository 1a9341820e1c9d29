// The compose component's error: a stable code, and a message that names the file, the field and
// what is allowed (or what to do).

export type ComposeErrorCode =
  | "MANIFEST_NOT_FOUND"
  | "INVALID_MANIFEST"
  | "DEPENDENCY_FAILED"
  | "DEPENDENCY_TIMEOUT";

export class ComposeError extends Error {
  override name = "ComposeError";
  constructor(
    readonly code: ComposeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
