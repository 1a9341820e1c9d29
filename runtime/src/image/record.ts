/** What a container inherits from its image: Docker's image config, in camelCase. */
export interface ImageConfig {
  env: string[];
  cmd: string[];
  entrypoint: string[];
  workdir: string;
  user: string;
  /** "80/tcp", "53/udp": ports the image says it serves (documentation, as in Docker). */
  exposedPorts: string[];
  labels: Record<string, string>;
  /** HEALTHCHECK, as Docker's config holds it; a container without a health check of its own runs it. */
  healthcheck?: ImageHealthcheck;
  /** STOPSIGNAL: what stop sends when the container was given none ("SIGQUIT"). */
  stopSignal?: string;
}

/** Docker's Config.Healthcheck: Test is ["CMD", arg...], ["CMD-SHELL", line] or ["NONE"]; times in ns. */
export interface ImageHealthcheck {
  test: string[];
  intervalNs?: number;
  timeoutNs?: number;
  startPeriodNs?: number;
  retries?: number;
}

export interface ImageRecord {
  name: string;
  /** Plain rootfs tarball: sha256 (hex) of its bytes. Layered image: the config blob's sha256 (hex). */
  id: string;
  /**
   * Single-layer (plain rootfs) image: its root filesystem. Layered image: the layer holding the
   * image's /etc/passwd (where user names are looked up), else the top layer. Mount `layers`.
   */
  rootfs: string;
  /** The overlay lower dirs, top first (one entry, `rootfs`, for a plain rootfs image). */
  layers: string[];
  /** Layered images: the layers' diff_ids, bottom first as in the config; [] for plain images. */
  diffIds: string[];
  /** ISO time: the config's `created`, or when a plain tarball was first imported. */
  created: string;
  /** Sum of the regular files' sizes over all layers. */
  sizeBytes: number;
  config: ImageConfig;
  /** A committed image's message and author (weft commit -m, -a). */
  comment?: string;
  author?: string;
}

/** What a plain rootfs tarball gets, as `docker import` would give it. */
export const DEFAULT_IMAGE_CONFIG: ImageConfig = {
  env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  cmd: ["/bin/sh"],
  entrypoint: [],
  workdir: "/",
  user: "0",
  exposedPorts: [],
  labels: {},
};
