/**
 * Why an image operation failed, as a stable code the engine and the CLI can branch on:
 * IMAGE_NOT_FOUND, BAD_NAME, BAD_ARCHIVE (unreadable, truncated, not a tar, a blob or manifest
 * missing), BAD_DIGEST (content does not match the digest that names it), BAD_MEDIA_TYPE (a layer
 * compression or manifest type Weft cannot read, e.g. zstd), UNSAFE_PATH (an entry would land
 * outside the rootfs), IMAGE_IN_USE (a container still uses it), MOUNT_FAILED (overlay mount or unmount),
 * BAD_CHANGE (a --change instruction weft does not take, or malformed).
 */
export type ImageErrorCode =
  | "IMAGE_NOT_FOUND"
  | "BAD_NAME"
  | "BAD_ARCHIVE"
  | "BAD_DIGEST"
  | "BAD_MEDIA_TYPE"
  | "UNSAFE_PATH"
  | "IMAGE_IN_USE"
  | "MOUNT_FAILED"
  | "BAD_CHANGE";

export class ImageError extends Error {
  override name = "ImageError";
  /** HTTP status for the daemon's API (httpStatusOf reads it): an image in use is a conflict. */
  readonly status?: number;
  constructor(
    readonly code: ImageErrorCode,
    message: string,
  ) {
    super(message);
    if (code === "IMAGE_IN_USE") this.status = 409;
  }
}
