/** The sidecar's one error class; `code` is stable so callers and tests can branch on it. */
export class SidecarError extends Error {
  override name = "SidecarError";
  constructor(
    readonly code:
      | "INVALID_CONFIG"
      | "INVALID_RULE_OPTIONS"
      | "INVALID_LABEL"
      | "INVALID_FLAGS"
      | "ADDON_MISSING"
      | "LISTEN_FAILED"
      | "BUNDLE_FAILED",
    message: string,
  ) {
    super(message);
  }
}
