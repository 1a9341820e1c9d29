// `weft up` and `weft down`: the compose verbs of the CLI.
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import { EngineClient, resolveHost } from "../api/client";
import { systemClock } from "../engine/parts";
import { DaemonComposeApi } from "./api";
import { ComposeError } from "./errors";
import { foreground } from "./foreground";
import type { Manifest } from "./manifest";
import { down, up } from "./up";
import { loadManifest } from "./validate";
import { fixedHostPortProblem } from "./validate-service";

const HOST_USAGE =
  "  --host unix://PATH     the daemon's socket (default $WEFT_HOST or unix:///run/weft/weft.sock)";

const UP_USAGE = `Usage: weft up [-f weft.yaml] [-p PROJECT] [-d] [--scale SERVICE=N]...

Creates and starts the services of a manifest, in depends_on order, and converges an app that is
already up: unchanged containers are left alone, changed ones recreated, replicas scaled, and
containers of services no longer in the file removed. Containers are named PROJECT-SERVICE-N.

Options:
  -f, --file FILE          the manifest (default ./weft.yaml)
  -p, --project-name NAME  the project (default: name: in the file, else the file's directory name)
  -d, --detach             return once the app is up (default: stay, report changes, Ctrl-C stops it)
  --scale SERVICE=N        run N replicas of SERVICE instead of the file's replicas (repeatable;
                           as docker compose's, it lasts until the next up without it)
  --wait-timeout SECONDS   how long to wait for a dependency to be healthy (default 120)
  -t, --timeout SECONDS    grace period when a container is replaced or removed (default 10)
${HOST_USAGE}`;

const DOWN_USAGE = `Usage: weft down [-f weft.yaml] [-p PROJECT] [--volumes]

Stops and removes the project's containers (also those of services no longer in the file).

Options:
  -f, --file FILE          the manifest (default ./weft.yaml)
  -p, --project-name NAME  the project (default: name: in the file, else the file's directory name)
  -v, --volumes            also remove the named volumes declared in the file
  -t, --timeout SECONDS    grace period before SIGKILL (default 10)
${HOST_USAGE}`;

const COMMON = {
  file: { type: "string" as const, short: "f" },
  "project-name": { type: "string" as const, short: "p" },
  timeout: { type: "string" as const, short: "t" },
  host: { type: "string" as const },
};

function seconds(flag: string, text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} expects a whole number of seconds, got "${text}"`);
  return Number(text);
}

const print = (l: string) => process.stdout.write(`${l}\n`);

export const upCommand: Command = {
  name: "up",
  summary: "Create, start or converge the services of a weft.yaml",
  usage: UP_USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...COMMON,
      detach: { type: "boolean", short: "d" },
      "wait-timeout": { type: "string" },
      scale: { type: "string", multiple: true },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const m = scaled(
      loadManifest(values.file ?? "weft.yaml", { project: values["project-name"] }),
      values.scale,
    );
    const api = new DaemonComposeApi(new EngineClient(resolveHost(values.host)));
    const began = new Date().toISOString();
    const r = await up(api, m, {
      print,
      clock: systemClock,
      waitTimeoutMs: seconds("--wait-timeout", values["wait-timeout"], 120) * 1000,
      stopTimeoutS: seconds("--timeout", values.timeout, 10),
    });
    const changed = r.created + r.recreated + r.started + r.removed;
    print(
      `${m.project}: ${changed === 0 ? "up to date" : `${r.created} created, ${r.recreated} recreated, ${r.started} started, ${r.removed} removed`}, ${r.unchanged} unchanged`,
    );
    if (values.detach) return 0;
    return foreground(api, m, {
      print,
      since: began,
      clock: systemClock,
      stopTimeoutS: seconds("--timeout", values.timeout, 10),
    });
  },
};

/** The manifest with --scale SERVICE=N applied (docker compose's flag), checked as replicas: is. */
function scaled(m: Manifest, flags: string[] = []): Manifest {
  const replicas = new Map<string, number>();
  for (const flag of flags) {
    const match = /^([^=]+)=(\d+)$/.exec(flag);
    if (!match) throw new UsageError(`--scale expects SERVICE=N (e.g. --scale catalog=3), got "${flag}"`);
    const [, name, count] = match as unknown as [string, string, string];
    const service = m.services.find((s) => s.name === name);
    if (!service) {
      throw new UsageError(
        `--scale ${flag}: no service "${name}" in the manifest; its services: ${m.services.map((s) => s.name).join(", ")}`,
      );
    }
    if (Number(count) > 100) throw new UsageError(`--scale ${flag}: at most 100 replicas`);
    const held = fixedHostPortProblem(service.publish, Number(count));
    if (held) throw new UsageError(`--scale ${flag}: ${held.message}`);
    replicas.set(name, Number(count));
  }
  return { ...m, services: m.services.map((s) => ({ ...s, replicas: replicas.get(s.name) ?? s.replicas })) };
}

export const downCommand: Command = {
  name: "down",
  summary: "Stop and remove the services of a weft.yaml",
  usage: DOWN_USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...COMMON,
      volumes: { type: "boolean", short: "v" },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const project = values["project-name"];
    let m: Pick<Manifest, "project" | "services" | "volumes">;
    try {
      m = loadManifest(values.file ?? "weft.yaml", { project });
    } catch (err) {
      // With -p the project is known: a broken (or deleted) file must not keep an app from going down.
      if (!(err instanceof ComposeError) || project === undefined) throw err;
      process.stderr.write(`weft down: ${err.message}; removing project "${project}" by its labels\n`);
      m = { project, services: [], volumes: [] };
    }
    const api = new DaemonComposeApi(new EngineClient(resolveHost(values.host)));
    const n = await down(api, m, {
      print,
      volumes: values.volumes,
      stopTimeoutS: seconds("--timeout", values.timeout, 10),
    });
    if (n === 0) print(`${m.project}: no containers`);
    return 0;
  },
};
