// The volumes module's error class, with stable codes the API maps to HTTP statuses.

export type VolumeErrorCode = "INVALID_VOLUME" | "VOLUME_NOT_FOUND" | "VOLUME_IN_USE" | "VOLUME_FAILED";

export class VolumeError extends Error {
  override name = "VolumeError";
  /** The API's answer: a volume in use is a conflict (409); other codes map by name (404, 400, 500). */
  readonly status: number | undefined;
  constructor(
    readonly code: VolumeErrorCode,
    message: string,
  ) {
    super(message);
    this.status = code === "VOLUME_IN_USE" ? 409 : undefined;
  }
}
