// `weft system df`: what the daemon's images, containers and volumes take on disk, as docker system
// df prints it (TOTAL, ACTIVE, SIZE, RECLAIMABLE per type; -v lists each object).
import { type Command, formatTable, parseFlags, UsageError } from "../../../cli/index";
import { clientFor, HOST_FLAG, HOST_USAGE } from "./client";
import { decimalSize } from "./stats";

interface Usage {
  layersBytes: number;
  images: Array<{ id: string; names: string[]; bytes: number; sharedBytes: number; containers: number }>;
  containers: Array<{
    id: string;
    name: string;
    image: string;
    status: string;
    rwBytes: number;
    rootBytes: number;
  }>;
  volumes: Array<{ name: string; bytes: number; refs: number }>;
  /** The builder's cache: its steps, and the bytes only it keeps (a daemon before it: absent). */
  buildCache?: { entries: number; bytes: number };
}

/** "11.63MB (70%)", as docker writes a reclaimable size. */
function reclaim(bytes: number, total: number): string {
  const pct = total > 0 ? ` (${Math.round((bytes / total) * 100)}%)` : "";
  return `${decimalSize(bytes, 4)}${pct}`;
}

/** docker's summary rows: an image is reclaimable unless a container uses it (less what it shares). */
export function summaryRows(u: Usage): string[][] {
  const usedImageBytes = u.images
    .filter((i) => i.containers > 0)
    .reduce((sum, i) => sum + i.bytes - i.sharedBytes, 0);
  const running = u.containers.filter((c) => c.status === "running" || c.status === "restarting");
  const rw = u.containers.reduce((sum, c) => sum + c.rwBytes, 0);
  const stoppedRw = u.containers.filter((c) => !running.includes(c)).reduce((sum, c) => sum + c.rwBytes, 0);
  const volumeBytes = u.volumes.reduce((sum, v) => sum + v.bytes, 0);
  const unusedVolumes = u.volumes.filter((v) => v.refs === 0).reduce((sum, v) => sum + v.bytes, 0);
  return [
    [
      "Images",
      String(u.images.length),
      String(u.images.filter((i) => i.containers > 0).length),
      decimalSize(u.layersBytes, 4),
      reclaim(Math.max(0, u.layersBytes - usedImageBytes), u.layersBytes),
    ],
    [
      "Containers",
      String(u.containers.length),
      String(running.length),
      decimalSize(rw, 4),
      reclaim(stoppedRw, rw),
    ],
    [
      "Local Volumes",
      String(u.volumes.length),
      String(u.volumes.filter((v) => v.refs > 0).length),
      decimalSize(volumeBytes, 4),
      reclaim(unusedVolumes, volumeBytes),
    ],
    [
      "Build Cache",
      String(u.buildCache?.entries ?? 0),
      "0",
      decimalSize(u.buildCache?.bytes ?? 0, 4),
      decimalSize(u.buildCache?.bytes ?? 0, 4),
    ],
  ];
}

export const systemDfCommand: Command = {
  name: "system df",
  summary: "Show what images, containers and volumes take on disk",
  usage: `Usage: weft system df [-v] [--json]

TOTAL and ACTIVE (used by a container; running, for containers), SIZE and RECLAIMABLE (what
'weft image prune -a', 'weft container prune', 'weft volume prune -a' and 'weft builder prune'
would free), as docker system df. A container's size is its writable layer: what it changed over its image.

Options:
  -v, --verbose          also list each image, container and volume
  --json                 print the whole answer as JSON
${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...HOST_FLAG,
      verbose: { type: "boolean", short: "v" },
      json: { type: "boolean" },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const u = await clientFor(values.host).json<Usage>("GET", "/system/df");
    if (values.json) {
      process.stdout.write(`${JSON.stringify(u, null, 2)}\n`);
      return 0;
    }
    const out = [formatTable(["type", "total", "active", "size", "reclaimable"], summaryRows(u))];
    if (values.verbose) {
      out.push(
        "",
        "Images space usage:",
        "",
        formatTable(
          ["repository:tag", "image id", "size", "shared size", "unique size", "containers"],
          u.images.map((i) => [
            i.names.join(", "),
            i.id.slice(0, 12),
            decimalSize(i.bytes, 3),
            decimalSize(i.sharedBytes, 3),
            decimalSize(i.bytes - i.sharedBytes, 3),
            String(i.containers),
          ]),
        ),
        "",
        "Containers space usage:",
        "",
        formatTable(
          ["container id", "image", "size", "status", "names"],
          u.containers.map((c) => [c.id.slice(0, 12), c.image, decimalSize(c.rwBytes, 3), c.status, c.name]),
        ),
        "",
        "Local Volumes space usage:",
        "",
        formatTable(
          ["volume name", "links", "size"],
          u.volumes.map((v) => [v.name, String(v.refs), decimalSize(v.bytes, 3)]),
        ),
      );
    }
    process.stdout.write(`${out.join("\n")}\n`);
    return 0;
  },
};
