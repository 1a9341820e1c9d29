// `weft image import` and `weft image ls`.
import { resolve } from "node:path";
import { type Command, GoTemplate, parseFlags, printList, UsageError } from "../../../cli/index";
import type { ImageInfo } from "../engine/parts";
import { clientFor, HOST_FLAG, HOST_USAGE } from "./client";
import { ago, goTime } from "./ps";
import { decimalSize } from "./stats";

export const imageImportCommand: Command = {
  name: "image import",
  summary: "Import an image: docker save tar, OCI layout (dir or tar) or rootfs tarball",
  usage:
    "Usage: weft image import FILE [NAME]\n\nFILE is a `docker save` tar, an OCI image layout (folder or tar) or a plain\n" +
    "rootfs tarball (which needs NAME); the daemon reads it from this host. From an archive of several\n" +
    "images NAME picks the one tagged so; without NAME every tag is imported.\n\n" +
    `Options:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    if (positionals.length < 1 || positionals.length > 2)
      throw new UsageError("expects FILE and optionally NAME");
    const [file, name] = positionals as [string, string | undefined];
    const query = name === undefined ? "" : `?name=${encodeURIComponent(name)}`;
    const image = await clientFor(values.host).json<ImageInfo>("POST", `/images/import${query}`, {
      path: resolve(file),
    });
    process.stdout.write(`${image.id}\n`);
    return 0;
  },
};

export const imageLsCommand: Command = {
  name: "image ls",
  summary: "List images",
  usage: `Usage: weft image ls [-q | --format TEMPLATE | --json]\n\nOptions:\n  -q, --quiet        only the images' IDs, each once ('weft image rm $(weft image ls -q)')\n  --format TEMPLATE  each image through a Go template, as docker images: fields Repository, Tag,\n                     ID, CreatedSince, CreatedAt, Size, Name ("table " adds headers)\n  --json             print the full records as JSON\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      quiet: { type: "boolean", short: "q" },
      format: { type: "string" },
      json: { type: "boolean" },
      ...HOST_FLAG,
    });
    if (values.format !== undefined && values.json) throw new UsageError("give --format or --json, not both");
    const template = values.format === undefined ? undefined : new GoTemplate(values.format);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const now = new Date();
    const images = await clientFor(values.host).json<ImageInfo[]>("GET", "/images/json");
    if (values.quiet) {
      const ids = new Set(images.map((i) => shortImageId(i.id)));
      process.stdout.write([...ids].map((id) => `${id}\n`).join(""));
      return 0;
    }
    if (template) {
      const rows = images.map((i) => imageFields(i, now));
      process.stdout.write(template.renderAll(rows, (f) => IMAGE_HEADERS[f.toLowerCase()]));
      return 0;
    }
    printList(images, values.json, ["NAME", "IMAGE ID", "LAYERS", "SIZE", "CREATED"], (i) => [
      i.name,
      shortImageId(i.id),
      String(i.layers.length),
      decimalSize(i.sizeBytes, 3),
      `${ago(i.created, now)} ago`,
    ]);
    return 0;
  },
};

function shortImageId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** An image as `weft image ls --format` reads it: docker images's field names, and weft's Name. */
function imageFields(i: ImageInfo, now: Date) {
  const colon = i.name.lastIndexOf(":");
  const slash = i.name.lastIndexOf("/");
  const tagged = colon > slash;
  return {
    Repository: tagged ? i.name.slice(0, colon) : i.name,
    Tag: tagged ? i.name.slice(colon + 1) : "<none>",
    ID: shortImageId(i.id),
    CreatedSince: `${ago(i.created, now)} ago`,
    CreatedAt: goTime(i.created),
    Size: decimalSize(i.sizeBytes, 3),
    Name: i.name,
  };
}

/** docker images's column names for its --format fields. */
const IMAGE_HEADERS: Record<string, string> = {
  repository: "REPOSITORY",
  id: "IMAGE ID",
  createdsince: "CREATED",
  createdat: "CREATED AT",
};
