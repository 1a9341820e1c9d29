// `weft image inspect`, `weft image rm` and `weft image tag`.
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import type { ImageInfo } from "../engine/parts";
import { clientFor, HOST_FLAG, HOST_USAGE, ref } from "./client";

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
