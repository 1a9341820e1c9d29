// `weft image inspect`, `weft image rm`, `weft image tag` and `weft image prune`.
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import type { ImageInfo } from "../engine/parts";
import type { ContainerState } from "../engine/types";
import { clientFor, HOST_FLAG, HOST_USAGE, pruneAllStart, ref, removeEach } from "./client";

export const imageInspectCommand: Command = {
  name: "image inspect",
  summary: "Show an image's record (layers, config) as JSON",
  usage: `Usage: weft image inspect NAME...\n\nOptions:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    if (positionals.length === 0) throw new UsageError("expects at least one image NAME");
    const client = clientFor(values.host);
    const out: ImageInfo[] = [];
    for (const name of positionals)
      out.push(await client.json<ImageInfo>("GET", `/images/${ref(name)}/json`));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  },
};

export const imageRmCommand: Command = {
  name: "image rm",
  summary: "Remove images (refused while a container uses one)",
  usage: `Usage: weft image rm NAME...\n\nLayers no other image uses are deleted too.\n\nOptions:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    if (positionals.length === 0) throw new UsageError("expects at least one image NAME");
    const client = clientFor(values.host);
    let failed = 0;
    for (const name of positionals) {
      try {
        await client.call("DELETE", `/images/${ref(name)}`);
        process.stdout.write(`Untagged: ${name}\n`);
      } catch (err) {
        process.stderr.write(`weft image rm: ${(err as Error).message}\n`);
        failed++;
      }
    }
    return failed === 0 ? 0 : 1;
  },
};

export const imageTagCommand: Command = {
  name: "image tag",
  summary: "Give an image another name (e.g. a version for a canary: shop:v2)",
  usage: `Usage: weft image tag SOURCE TARGET

TARGET names the same image as SOURCE (a name it had is moved), as docker tag.

Options:
${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    const [source, target, extra] = positionals;
    if (source === undefined || target === undefined) throw new UsageError("expects SOURCE and TARGET");
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    await clientFor(values.host).json<ImageInfo>(
      "POST",
      `/images/${ref(source)}/tag?name=${encodeURIComponent(target)}`,
    );
    return 0;
  },
};

export const imageSaveCommand: Command = {
  name: "image save",
  summary: "Write images as a docker save archive (docker load and weft image import read it)",
  usage: `Usage: weft image save [-o FILE] NAME...

One tar of the images, on stdout or into FILE, as docker save writes it: manifest.json, each image's
config and its layers. Layers are written from the stored trees again, so where the archive is
loaded the images get new ids (their content and config are the same).

Options:
  -o, --output FILE      write to FILE instead of stdout
${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...HOST_FLAG,
      output: { type: "string", short: "o" },
    });
    if (positionals.length === 0) throw new UsageError("weft image save takes one or more image NAMEs");
    if (!values.output && process.stdout.isTTY)
      throw new UsageError("refusing to write a tar archive to a terminal; use -o FILE or redirect stdout");
    const query = positionals.map((n) => `names=${encodeURIComponent(n)}`).join("&");
    const res = await clientFor(values.host).stream("GET", `/images/save?${query}`);
    await pipeline(res, values.output ? createWriteStream(values.output) : process.stdout);
    return 0;
  },
};

export const imagePruneCommand: Command = {
  name: "image prune",
  summary: "Remove images no container uses (-a)",
  usage: `Usage: weft image prune -a [-f]

With -a, removes every image that no container, running or stopped, was made from (each of its
names; layers no other image uses go too), as docker image prune --all. Without -a docker removes
dangling images only, and weft has none: every weft image has a name.

Options:
  -a, --all     remove every image no container uses
  -f, --force   do not ask first
${HOST_USAGE}`,
  async run(argv) {
    const client = await pruneAllStart(
      argv,
      "No dangling images to remove: every weft image has a name. 'weft image prune -a' removes the images no container uses.",
      "WARNING! This will remove all images without at least one container associated to them.",
    );
    if (!client) return 0;
    const containers = await client.json<ContainerState[]>("GET", "/containers/json?all=1");
    const used = new Set(containers.map((c) => c.imageId));
    const images = await client.json<ImageInfo[]>("GET", "/images/json");
    const { removed, code } = await removeEach(
      "weft image prune",
      images.filter((i) => !used.has(i.id)),
      (image) => client.call("DELETE", `/images/${ref(image.name)}`),
    );
    const deleted = removed.map((i) => i.name);
    if (deleted.length > 0)
      process.stdout.write(`Deleted Images:\n${deleted.map((n) => `untagged: ${n}\n`).join("")}`);
    else process.stdout.write("No unused images to remove.\n");
    return code;
  },
};
