// `weft volume ls|create|rm|prune`: named volumes (STATE/volumes/NAME/_data on the daemon's host).
import { type Command, parseFlags, printList, UsageError } from "../../../cli/index";
import type { VolumeInfo } from "../volumes/index";
import { clientFor, HOST_FLAG, HOST_USAGE, pruneAllStart, ref, removeEach, removeNamed } from "./client";

export const volumeLsCommand: Command = {
  name: "volume ls",
  summary: "List named volumes",
  usage: `Usage: weft volume ls [-q | --json]\n\nOptions:\n  -q, --quiet   only the volumes' names ('weft volume rm $(weft volume ls -q)')\n  --json        print the full records as JSON\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      quiet: { type: "boolean", short: "q" },
      json: { type: "boolean" },
      ...HOST_FLAG,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const { Volumes } = await clientFor(values.host).json<{
      Volumes: Array<VolumeInfo & { usedBy: string[] }>;
    }>("GET", "/volumes");
    if (values.quiet) {
      process.stdout.write(Volumes.map((v) => `${v.name}\n`).join(""));
      return 0;
    }
    printList(Volumes, values.json, ["VOLUME NAME", "MOUNTPOINT", "USED BY"], (v) => [
      v.name,
      v.mountpoint,
      v.usedBy.join(", "),
    ]);
    return 0;
  },
};

export const volumeCreateCommand: Command = {
  name: "volume create",
  summary: "Create a named volume (also made on first use by 'weft run -v NAME:/path')",
  usage: `Usage: weft volume create NAME\n\nOptions:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    if (positionals.length !== 1) throw new UsageError("expects exactly one NAME");
    const v = await clientFor(values.host).json<VolumeInfo>("POST", "/volumes/create", {
      Name: positionals[0],
    });
    process.stdout.write(`${v.name}\n`);
    return 0;
  },
};

export const volumeRmCommand: Command = {
  name: "volume rm",
  summary: "Remove named volumes and their data (refused while a container uses one)",
  usage: `Usage: weft volume rm NAME...\n\nOptions:\n${HOST_USAGE}`,
  run: removeNamed("weft volume rm", "volumes"),
};

export const volumePruneCommand: Command = {
  name: "volume prune",
  summary: "Remove the volumes no container uses, with their data (-a)",
  usage: `Usage: weft volume prune -a [-f]\n\nWith -a, removes every volume that no container, running or stopped, references, and its data,\nas docker volume prune --all. Without -a docker removes anonymous volumes only, and weft has none:\nevery weft volume is named.\n\nOptions:\n  -a, --all     remove every volume no container uses\n  -f, --force   do not ask first\n${HOST_USAGE}`,
  async run(argv) {
    const client = await pruneAllStart(
      argv,
      "No anonymous volumes to remove: every weft volume is named. 'weft volume prune -a' removes the volumes no container uses.",
      "WARNING! This will remove all local volumes not used by at least one container.",
    );
    if (!client) return 0;
    const { Volumes } = await client.json<{ Volumes: Array<VolumeInfo & { usedBy: string[] }> }>(
      "GET",
      "/volumes",
    );
    const { removed, code } = await removeEach(
      "weft volume prune",
      Volumes.filter((x) => x.usedBy.length === 0),
      (v) => client.call("DELETE", `/volumes/${ref(v.name)}`),
    );
    const deleted = removed.map((v) => v.name);
    if (deleted.length > 0)
      process.stdout.write(`Deleted Volumes:\n${deleted.map((n) => `${n}\n`).join("")}`);
    else process.stdout.write("No unused volumes to remove.\n");
    return code;
  },
};
