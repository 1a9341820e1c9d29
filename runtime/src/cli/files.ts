// `weft diff`, `weft export` and `weft commit`: a container's file system as docker diff and docker
// export show it, and a new image of it as docker commit makes one.
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import { type ChangeKind, changeLetter } from "../copy/changes";
import { clientFor, HOST_FLAG, HOST_USAGE, ref } from "./client";

export const diffCommand: Command = {
  name: "diff",
  summary: "Show what a container changed in its file system",
  usage: `Usage: weft diff [--json] CONTAINER\n\nThe files and directories the container added (A), changed (C) or deleted (D) since it was\ncreated from its image, running or stopped, as docker diff. Volumes and bind mounts are not\npart of it.\n\nOptions:\n  --json                 print [{"Path", "Kind"}] (Kind 0 changed, 1 added, 2 deleted)\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...HOST_FLAG, json: { type: "boolean" } });
    if (positionals.length !== 1) throw new UsageError("weft diff takes one CONTAINER");
    const changes = await clientFor(values.host).json<Array<{ Path: string; Kind: ChangeKind }>>(
      "GET",
      `/containers/${ref(positionals[0] as string)}/changes`,
    );
    if (values.json) process.stdout.write(`${JSON.stringify(changes, null, 2)}\n`);
    else for (const c of changes) process.stdout.write(`${changeLetter(c.Kind)} ${c.Path}\n`);
    return 0;
  },
};

export const exportCommand: Command = {
  name: "export",
  summary: "Write a container's file system as a tar archive",
  usage: `Usage: weft export [-o FILE] CONTAINER\n\nThe container's whole file system (its image and what it changed, not its volumes) as a tar, on\nstdout or into FILE, as docker export; 'weft image import FILE NAME' makes an image of it.\n\nOptions:\n  -o, --output FILE      write to FILE instead of stdout\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...HOST_FLAG,
      output: { type: "string", short: "o" },
    });
    if (positionals.length !== 1) throw new UsageError("weft export takes one CONTAINER");
    if (!values.output && process.stdout.isTTY)
      throw new UsageError("refusing to write a tar archive to a terminal; use -o FILE or redirect stdout");
    const res = await clientFor(values.host).stream(
      "GET",
      `/containers/${ref(positionals[0] as string)}/export`,
    );
    await pipeline(res, values.output ? createWriteStream(values.output) : process.stdout);
    return 0;
  },
};

export const commitCommand: Command = {
  name: "commit",
  summary: "Make an image of a container's changes",
  usage: `Usage: weft commit [OPTIONS] CONTAINER NAME[:TAG]

A new image: the container's image with one layer more, what the container changed (not its
volumes), and the config it runs with (env, command, workdir, user, ports, labels), as docker
commit. A running container is frozen while its files are read. Prints the image's id.

Options:
  -c, --change LINE      a Dockerfile instruction for the image's config: CMD, ENTRYPOINT, ENV,
                         EXPOSE, LABEL, USER or WORKDIR (repeatable)
  -m, --message TEXT     a message kept with the image
  -a, --author TEXT      who made it
  --pause true|false     freeze a running container while its files are read (default true)
${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...HOST_FLAG,
      change: { type: "string", short: "c", multiple: true },
      message: { type: "string", short: "m" },
      author: { type: "string", short: "a" },
      pause: { type: "string" },
    });
    if (positionals.length !== 2)
      throw new UsageError("weft commit takes a CONTAINER and the NAME[:TAG] of the image to make");
    if (values.pause !== undefined && values.pause !== "true" && values.pause !== "false")
      throw new UsageError(`--pause takes true or false, got "${values.pause}"`);
    const [container, name] = positionals as [string, string];
    const image = await clientFor(values.host).json<{ id: string; name: string }>(
      "POST",
      `/containers/${ref(container)}/commit`,
      {
        name,
        changes: values.change ?? [],
        comment: values.message,
        author: values.author,
        pause: values.pause === undefined ? undefined : values.pause === "true",
      },
    );
    process.stdout.write(`sha256:${image.id}\n`);
    return 0;
  },
};
