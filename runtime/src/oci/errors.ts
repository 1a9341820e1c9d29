// The oci module's error class: bad security options (capabilities, seccomp profile) with a stable code.

export type OciErrorCode = "INVALID_CAPABILITY" | "INVALID_SECURITY_OPT" | "SECCOMP_PROFILE_MISSING";

export class OciError extends Error {
  override name = "OciError";
  constructor(
    readonly code: OciErrorCode,
    message: string,
  ) {
    super(message);
  }
}
