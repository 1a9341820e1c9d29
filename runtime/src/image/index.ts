export type { ImageErrorCode } from "./errors";
export { ImageError } from "./errors";
export type { OverlayOptions } from "./overlay";
export { mountOverlay, unmount } from "./overlay";
export type { ImageConfig, ImageRecord } from "./store";
export { checkImageName, DEFAULT_IMAGE_CONFIG, ImageStore } from "./store";
