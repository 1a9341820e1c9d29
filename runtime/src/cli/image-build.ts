// `weft image build -f SPEC`: builds an image offline from an ImageBuild spec and imports it into the
// daemon (which reads the result from this host, as `weft image import` does).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import type { ImageInfo } from "../engine/parts";
import { type BaseImage, type BuildFormat, buildImage, loadBuildSpec } from "../image/build/index";
import { clientFor, HOST_FLAG, HOST_USAGE } from "./client";

/**
 * What the daemon is handed by default: an OCI layout keeps the image config (env, cmd, ports, ...).
 * "rootfs" is for a daemon whose import reads plain rootfs tarballs only.
 */
export const DEFAULT_BUILD_FORMAT: BuildFormat = "oci";

const USAGE = `Usage: weft image build -f SPEC [OPTIONS]

Builds the image an ImageBuild spec describes (a base image or scratch, copied files, host binaries
with their shared libraries, inline files, env, cmd, ...) without any network, and imports it into
the daemon under the spec's name. Copy sources are relative to the spec's folder.

Options:
  -f, --file SPEC        the spec (YAML, apiVersion weft.dev/v1, kind ImageBuild)
  --format FORMAT        oci (an OCI image layout with the spec's env, cmd, ports, ...) or rootfs
                         (one plain rootfs tarball: files only, the image gets the default config,
                         so pass the command to 'weft run') (default ${DEFAULT_BUILD_FORMAT})
  -o, --output PATH      write the tarball (rootfs) or layout folder (oci) to PATH; do not import
  -t, --tag NAME         import under NAME instead of the spec's name
${HOST_USAGE}`;

export const imageBuildCommand: Command = {
  name: "image build",
  summary: "Build an image offline from a spec (weft image build -f image.yaml)",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      file: { type: "string", short: "f" },
      format: { type: "string" },
      output: { type: "string", short: "o" },
      tag: { type: "string", short: "t" },
      ...HOST_FLAG,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (!values.file) throw new UsageError("missing -f SPEC");
    const format = values.format ?? DEFAULT_BUILD_FORMAT;
    if (format !== "oci" && format !== "rootfs") {
      throw new UsageError(`--format must be oci or rootfs, got "${format}"`);
    }
    const specFile = resolve(values.file);
    const spec = loadBuildSpec(specFile);
    const client = clientFor(values.host);
    let base: BaseImage | undefined;
    if (spec.from !== "scratch") {
      const found = (await client.json<ImageInfo[]>("GET", "/images/json")).find(
        (i) => i.name === spec.from || i.name === `${spec.from}:latest`,
      );
      // Layers are read on this host: the CLI and the daemon share it, as for 'weft image import'.
      base = found && {
        layers: found.layers.length > 0 ? found.layers : [found.rootfs],
        config: found.config,
      };
      if (!base) {
        throw new Error(
          `${values.file}: from: image "${spec.from}" is not in the daemon's store; build or import it first ('weft image ls' lists them)`,
        );
      }
    }
    const options = { specDir: dirname(specFile), format, base } as const;
    if (values.output) {
      const result = await buildImage(spec, { ...options, out: values.output });
      process.stdout.write(`${result.manifestDigest ?? result.out}\n`);
      return 0;
    }
    const work = await mkdtemp(join(tmpdir(), "weft-image-build-"));
    try {
      const out = join(work, format === "oci" ? "image.oci" : "image.tar");
      await buildImage(spec, { ...options, out });
      const image = await client.json<ImageInfo>(
        "POST",
        `/images/import?name=${encodeURIComponent(values.tag ?? spec.name)}`,
        { path: out },
      );
      process.stdout.write(`${image.id}\n`);
      return 0;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};
