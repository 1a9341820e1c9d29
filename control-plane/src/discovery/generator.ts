// One generator per resource type (as Istio's cds/eds/rds): each turns the registry or the config
// store into the resources of its type. The resource cache calls them and works out what changed.
import { createHash } from "node:crypto";
import type { PushResource, ResourceType } from "./wire";

export interface Generator {
  readonly type: ResourceType;
  /** Where its input comes from: registry changes name services, config changes name kinds. */
  readonly source: "registry" | "config";
  /** Every resource of the type as of now, by name. */
  all(): Map<string, PushResource>;
  /** Only the named resources (undefined: the name has no resource now). Default: from all(). */
  some?(names: Iterable<string>): Map<string, PushResource | undefined>;
  /** The type's version label for the state just generated (e.g. the registry index). */
  version(): string;
}

/** A short content hash: the resource's version, so a stream can tell whether it really changed. */
export function contentVersion(value: unknown): string {
  return createHash("sha1").update(JSON.stringify(value)).digest("hex").slice(0, 12);
}
