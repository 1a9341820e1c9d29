// `weft image build` without the daemon: a validated spec (and, for `from: IMAGE`, that image's rootfs
// and config) in; an OCI image layout or a plain rootfs tarball out. Nothing touches the network.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DEFAULT_IMAGE_CONFIG } from "../store";
import { type BaseImage, withBaseRoot } from "./base";
import { BuildError } from "./errors";
import { type Layer, writeImage, writeLayer } from "./layout";
import type { BuildSpec } from "./spec";
import { stageAdditions } from "./stage";
import { tarDirectory } from "./tar";

/** "oci": an OCI image layout directory (config kept). "rootfs": one tarball for `weft image import`. */
export type BuildFormat = "oci" | "rootfs";

export interface BuildOptions {
  /** Folder that copy sources are relative to (the spec file's folder). */
  specDir: string;
  /** Where the result goes: a directory for "oci", a file for "rootfs". Must not exist yet. */
  out: string;
  format: BuildFormat;
  /** The base image when spec.from is not "scratch". */
  base?: BaseImage;
}

/** What a container of the built image inherits (the store's ImageConfig). */
export interface BuiltConfig {
  env: string[];
  cmd: string[];
  entrypoint: string[];
  workdir: string;
  user: string;
  exposedPorts: string[];
  labels: Record<string, string>;
}

export interface BuildResult {
  format: BuildFormat;
  out: string;
  /** The merged runtime config (what an OCI import gets; a rootfs import gets the default). */
  config: BuiltConfig;
  /** The manifest's digest (oci only): equal for equal inputs. */
  manifestDigest?: string;
}

export async function buildImage(spec: BuildSpec, o: BuildOptions): Promise<BuildResult> {
  if (spec.from !== "scratch" && !o.base) {
    throw new BuildError(
      "BAD_SPEC",
      `from: "${spec.from}" needs that image's rootfs; build it through the daemon`,
    );
  }
  const out = resolve(o.out);
  if (existsSync(out))
    throw new BuildError("BAD_SPEC", `output ${out} already exists; remove it or pick another path`);
  const work = await mkdtemp(join(tmpdir(), "weft-build-"));
  // The result is written next to out and renamed into place, so a failed build leaves nothing there.
  const partial = join(dirname(out), `.weft-build-${randomBytes(6).toString("hex")}`);
  try {
    const stage = join(work, "stage");
    await mkdir(stage);
    await stageAdditions(spec, o.specDir, stage);
    const config = mergeConfig(spec, o.base?.config ?? DEFAULT_IMAGE_CONFIG);
    let manifestDigest: string | undefined;
    // The base keeps its owners and file capabilities; what this build adds is owned by 0:0.
    const baseTar = join(work, "base.tar");
    if (o.base) {
      await withBaseRoot(o.base, (root) =>
        tarDirectory(root, baseTar, { rootOwned: false, capabilities: true }),
      );
    }
    if (o.format === "rootfs") {
      if (o.base) await rename(baseTar, partial);
      await tarDirectory(stage, partial, { rootOwned: true, append: o.base !== undefined });
    } else {
      const layers: Layer[] = [];
      if (o.base) layers.push(await writeLayer(partial, baseTar));
      const tar = join(work, "layer.tar");
      await tarDirectory(stage, tar, { rootOwned: true });
      layers.push(await writeLayer(partial, tar));
      manifestDigest = (await writeImage(partial, spec.name, ociConfig(spec, config, layers), layers)).digest;
    }
    await rename(partial, out);
    return { format: o.format, out, config, manifestDigest };
  } finally {
    await rm(partial, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Spec over base, field by field, as a Dockerfile's instructions override FROM's: env by key, and an
 * entrypoint set here drops the base's cmd (Docker does the same) unless cmd is set too.
 */
export function mergeConfig(spec: BuildSpec, base: BaseImage["config"]): BuiltConfig {
  const env = new Map<string, string>();
  for (const kv of base.env) {
    const eq = kv.indexOf("=");
    env.set(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? "" : kv.slice(eq + 1));
  }
  for (const [k, v] of Object.entries(spec.env ?? {})) env.set(k, v);
  return {
    env: [...env].map(([k, v]) => `${k}=${v}`),
    cmd: spec.cmd ?? (spec.entrypoint !== undefined ? [] : base.cmd),
    entrypoint: spec.entrypoint ?? base.entrypoint,
    workdir: spec.workdir ?? base.workdir,
    user: spec.user ?? base.user,
    exposedPorts: [...new Set([...(base.exposedPorts ?? []), ...spec.expose])],
    labels: { ...base.labels, ...spec.labels },
  };
}

const ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
};

/** The OCI image config; `created` is fixed so the digest depends on the inputs only. */
function ociConfig(spec: BuildSpec, c: BuiltConfig, layers: Layer[]): object {
  const created = "1970-01-01T00:00:00Z";
  return {
    created,
    architecture: ARCH[process.arch] ?? process.arch,
    os: "linux",
    config: {
      User: c.user,
      ExposedPorts: Object.fromEntries(c.exposedPorts.map((p) => [p, {}])),
      Env: c.env,
      Entrypoint: c.entrypoint,
      Cmd: c.cmd,
      WorkingDir: c.workdir,
      Labels: c.labels,
    },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({
      created,
      created_by:
        i === 0 && spec.from !== "scratch"
          ? `weft image build: from ${spec.from}`
          : `weft image build: ${spec.name}`,
    })),
  };
}
