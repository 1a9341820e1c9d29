// Compose: `weft up -f weft.yaml` / `weft down` over the daemon's Weft API.
export { type ComposeApi, DaemonComposeApi } from "./api";
export { downCommand, upCommand } from "./commands";
export { ComposeError, type ComposeErrorCode } from "./errors";
export type { Manifest, ServiceConfig } from "./manifest";
export { type Action, type Plan, planDown, planUp } from "./plan";
export { configHash, containerName, createBody, LABEL_HASH, LABEL_PROJECT, LABEL_SERVICE } from "./spec";
export { down, type UpOptions, type UpResult, up } from "./up";
export { loadManifest, parseManifest } from "./validate";
