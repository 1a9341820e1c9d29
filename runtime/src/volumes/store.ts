// Named volumes: one directory per volume, STATE/volumes/NAME/_data (Docker's layout), made on
// first use or by `weft volume create`. Which containers use a volume is the engine's to say, so
// remove() takes that list and refuses while it is not empty. A volume's labels (docker volume create
// --label, compose's project labels) are in STATE/volumes/NAME/labels.json, written with it.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { VolumeError } from "./errors";
import { VOLUME_NAME_RE } from "./parse";

export interface VolumeInfo {
  name: string;
  /** The directory containers see (STATE/volumes/NAME/_data). */
  mountpoint: string;
  created: string;
  labels: Record<string, string>;
}

export class VolumeStore {
  constructor(readonly dir: string) {}

  /** Creates the volume if it does not exist, with these labels; returns it either way, with the
   * labels it was made with (as `docker volume create`). */
  create(name: string, labels: Record<string, string> = {}): VolumeInfo {
    checkName(name);
    const data = join(this.dir, name, "_data");
    if (!existsSync(data)) {
      // Made under a temporary name and renamed, so a half-made volume never shows up in ls.
      mkdirSync(this.dir, { recursive: true, mode: 0o711 });
      const tmp = join(this.dir, `.${name}.tmp-${process.pid}`);
      mkdirSync(join(tmp, "_data"), { recursive: true, mode: 0o755 });
      if (Object.keys(labels).length > 0)
        writeFileSync(join(tmp, "labels.json"), `${JSON.stringify(labels)}\n`);
      try {
        renameSync(tmp, join(this.dir, name));
      } catch (err) {
        rmSync(tmp, { recursive: true, force: true });
        if (!existsSync(data)) {
          throw new VolumeError("VOLUME_FAILED", `cannot create volume "${name}": ${(err as Error).message}`);
        }
      }
    }
    return this.get(name);
  }

  get(name: string): VolumeInfo {
    checkName(name);
    const data = join(this.dir, name, "_data");
    if (!existsSync(data)) {
      throw new VolumeError(
        "VOLUME_NOT_FOUND",
        `no such volume "${name}"; list them with 'weft volume ls' or create it with 'weft volume create ${name}'`,
      );
    }
    return {
      name,
      mountpoint: data,
      created: statSync(join(this.dir, name)).birthtime.toISOString(),
      labels: readLabels(join(this.dir, name, "labels.json")),
    };
  }

  list(): VolumeInfo[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((n) => VOLUME_NAME_RE.test(n) && existsSync(join(this.dir, n, "_data")))
      .sort()
      .map((n) => this.get(n));
  }

  /** Deletes the volume and its data; `usedBy` are the containers that still reference it. */
  remove(name: string, usedBy: string[]): void {
    this.get(name);
    if (usedBy.length > 0) {
      throw new VolumeError(
        "VOLUME_IN_USE",
        `volume "${name}" is in use by container(s) ${usedBy.join(", ")}; remove them first with 'weft rm'`,
      );
    }
    // Renamed away first, so a failure half-way never leaves a volume with part of its data.
    const doomed = join(this.dir, `.${name}.rm-${process.pid}`);
    renameSync(join(this.dir, name), doomed);
    rmSync(doomed, { recursive: true, force: true });
  }
}

/** The labels a volume was made with; none when it has no file (made before labels, or without). */
function readLabels(path: string): Record<string, string> {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === "string"));
  } catch {
    return {};
  }
}

function checkName(name: string): void {
  if (!VOLUME_NAME_RE.test(name)) {
    throw new VolumeError(
      "INVALID_VOLUME",
      `volume name "${name}" is invalid: use letters, digits, '_', '.' or '-', starting with a letter or digit`,
    );
  }
}
