// `-v SOURCE:DEST[:ro|rw]` as Docker reads it: an absolute SOURCE is a host path (bind mount), a
// bare name is a named volume; anything else is refused, naming the flag.
import { posix } from "node:path";
import { VolumeError } from "./errors";

export interface MountSpec {
  type: "bind" | "volume";
  /** The host path (bind) or the volume's name (volume). */
  source: string;
  /** Absolute path inside the container. */
  destination: string;
  readonly: boolean;
}

export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

function invalid(message: string): VolumeError {
  return new VolumeError("INVALID_VOLUME", message);
}

/** Parses one -v value (or an API Binds entry; `field` names it in errors). */
export function parseVolume(value: string, field = "-v"): MountSpec {
  const parts = value.split(":");
  if (parts.length < 2 || parts.length > 3) {
    throw invalid(
      `${field} must look like HOST_PATH:CONTAINER_PATH[:ro] or NAME:CONTAINER_PATH[:ro], got "${value}"`,
    );
  }
  const [source, destination, mode] = parts as [string, string, string | undefined];
  if (mode !== undefined && mode !== "ro" && mode !== "rw") {
    throw invalid(`${field} "${value}": the mode must be ro or rw, got "${mode}"`);
  }
  if (!destination.startsWith("/") || posix.normalize(destination) === "/") {
    throw invalid(`${field} "${value}": the container path must be absolute and not "/"`);
  }
  if (destination.split("/").includes("..")) {
    throw invalid(`${field} "${value}": the container path may not contain ".."`);
  }
  let type: MountSpec["type"];
  if (source.startsWith("/")) {
    type = "bind";
  } else if (VOLUME_NAME_RE.test(source)) {
    type = "volume";
  } else {
    throw invalid(
      `${field} "${value}": "${source}" is neither an absolute host path nor a volume name (letters, digits, '_', '.', '-'); give an absolute path such as $PWD/${source.replace(/^\.\//, "")}`,
    );
  }
  return {
    type,
    source: type === "bind" ? clean(source) : source,
    destination: clean(destination),
    readonly: mode === "ro",
  };
}

/** "/a//b/" → "/a/b": one spelling per path, so duplicates are found and the state reads well. */
function clean(path: string): string {
  const p = posix.normalize(path);
  return p.length > 1 ? p.replace(/\/+$/, "") : p;
}
