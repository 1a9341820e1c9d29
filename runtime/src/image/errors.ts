/**
 * Why an image operation failed, as a stable code the engine and the CLI can branch on:
 * IMAGE_NOT_FOUND, BAD_NAME, BAD_ARCHIVE (unreadable, truncated, not a tar), UNSAFE_PATH (an entry
 * would land outside the rootfs), MOUNT_FAILED (overlay mount or unmount).
 */
export type ImageErrorCode = "IMAGE_NOT_FOUND" | "BAD_NAME" | "BAD_ARCHIVE" | "UNSAFE_PATH" | "MOUNT_FAILED";

export class ImageError extends Error {
  override name = "ImageError";
  constructor(
    readonly code: ImageErrorCode,
    message: string,
  ) {
    super(message);
  }
}
