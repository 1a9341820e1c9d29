// The options `weft run` and `weft create` share: flags (Docker's names), their help text, and the
// API body they turn into. Checked here too, so a typo fails before the daemon is asked.
import { keyValues, type parseFlags, UsageError } from "../../../cli/index";
import { parsePort } from "../engine/validate";
import { parsePublish } from "../ports/index";
import { parseTmpfs, parseVolume } from "../volumes/index";
import { HOST_FLAG } from "./client";
import { parseDuration } from "./durations";
import { parsePositive, parseSize } from "./units";

export const RUN_OPTIONS_USAGE = `  -d, --detach           run in the background and print the container's id
  --name NAME            container name (default: a generated one)
  --service NAME         register the container as an endpoint of this service
  --port PORT[/PROTO]    a port the app serves, PROTO http or tcp (default tcp); repeatable
  --label KEY=VALUE      a label (routes split traffic by labels); repeatable
  --network NAME         a named network ('weft network create'; default weft, the bridge's own)
  --network-alias NAME   another name for the container on that network (kept; not resolved)
  -e, --env KEY=VALUE    an environment variable; repeatable
  -u, --user USER        UID[:GID] or NAME[:GROUP] from the image (uid 1337 is reserved for the sidecar)
  -w, --workdir DIR      working directory inside the container (default the image's)
  --entrypoint CMD       replace the image's entrypoint (and clear its cmd); "" clears it
  --hostname NAME        the container's host name (default its name)
  -v, --volume SRC:DST[:ro]
                         bind an absolute host path, or a named volume (made on first use); repeatable
  --rm                   remove the container when its app exits
  --read-only            mount the root filesystem read-only
  --cap-add CAP          add a capability (e.g. NET_ADMIN, or ALL); repeatable
  --cap-drop CAP         drop a capability (e.g. NET_RAW, or ALL); repeatable
  --privileged           every capability the daemon holds, device cgroup open, no seccomp, no masked paths
  --security-opt OPT     seccomp=unconfined, seccomp=/path/profile.json or no-new-privileges
  --userns MODE          auto: root in the container is an unprivileged host uid (default host)
  --memory SIZE          memory limit, e.g. 64m
  --cpus N               CPU limit, e.g. 0.5
  --pids N               most processes at once
  -c, --cpu-shares N     relative CPU weight under contention (default 1024)
  --no-sidecar           no sidecar and no interception
  --restart POLICY       no, on-failure[:N], always or unless-stopped (default no)
  -p, --publish [IP:]HOSTPORT:PORT
                         reach the app's PORT from the host (through its sidecar); repeatable
  --tmpfs DEST[:size=64m,mode=1777]
                         a memory-backed directory, empty at every start; repeatable
  --health-cmd CMD       a health check run in the container with /bin/sh -c (exit 0 = healthy)
  --health-http PORT/PATH
                         a health check over HTTP (2xx or 3xx = healthy)
  --health-interval D    time between checks (default 30s)
  --health-timeout D     a check taking longer fails (default 30s)
  --health-retries N     failures in a row before unhealthy (default 3)
  --health-start-period D
                         failures during this time after start do not count (default 0s)
  --no-healthcheck       do not run the image's HEALTHCHECK
  -t, --tty              give the app a terminal (its output is then one stream)
  -i, --interactive      keep the app's stdin open; without -d, send this terminal's input to it
  --detach-keys KEYS     keys that detach from an attached run (default ctrl-p,ctrl-q)
  --stop-timeout S       seconds between the stop signal and SIGKILL (default 10)
  --stop-signal SIG      the signal that asks the app to stop (default SIGTERM)
`;

export const RUN_FLAGS = {
  detach: { type: "boolean", short: "d" },
  name: { type: "string" },
  service: { type: "string" },
  port: { type: "string", multiple: true },
  label: { type: "string", multiple: true },
  network: { type: "string" },
  "network-alias": { type: "string", multiple: true },
  env: { type: "string", short: "e", multiple: true },
  user: { type: "string", short: "u" },
  workdir: { type: "string", short: "w" },
  entrypoint: { type: "string" },
  hostname: { type: "string" },
  volume: { type: "string", short: "v", multiple: true },
  rm: { type: "boolean" },
  "read-only": { type: "boolean" },
  "cap-add": { type: "string", multiple: true },
  "cap-drop": { type: "string", multiple: true },
  privileged: { type: "boolean" },
  "security-opt": { type: "string", multiple: true },
  userns: { type: "string" },
  memory: { type: "string" },
  cpus: { type: "string" },
  pids: { type: "string" },
  "cpu-shares": { type: "string", short: "c" },
  "no-sidecar": { type: "boolean" },
  restart: { type: "string" },
  publish: { type: "string", short: "p", multiple: true },
  tmpfs: { type: "string", multiple: true },
  "health-cmd": { type: "string" },
  "no-healthcheck": { type: "boolean" },
  "health-http": { type: "string" },
  "health-interval": { type: "string" },
  "health-timeout": { type: "string" },
  "health-retries": { type: "string" },
  "health-start-period": { type: "string" },
  tty: { type: "boolean", short: "t" },
  interactive: { type: "boolean", short: "i" },
  "detach-keys": { type: "string" },
  "stop-timeout": { type: "string" },
  "stop-signal": { type: "string" },
  ...HOST_FLAG,
} as const;

type Values = ReturnType<typeof parseFlags<typeof RUN_FLAGS>>["values"];

function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function healthcheck(values: Values): Record<string, unknown> | undefined {
  const cmd = values["health-cmd"];
  const http = values["health-http"];
  if (cmd === undefined && http === undefined) return undefined;
  if (cmd !== undefined && http !== undefined)
    throw new UsageError("give either --health-cmd or --health-http, not both");
  const h: Record<string, unknown> = {};
  if (cmd !== undefined) h.exec = ["/bin/sh", "-c", cmd];
  else {
    const m = /^(\d+)(\/.*)?$/.exec(http!);
    if (!m) throw new UsageError(`--health-http expects PORT/PATH like 8080/healthz, got "${http}"`);
    h.http = { port: Number(m[1]), path: m[2] ?? "/" };
  }
  const d = (flag: "health-interval" | "health-timeout" | "health-start-period", key: string) => {
    const v = values[flag];
    if (v !== undefined) h[key] = parseDuration(`--${flag}`, v);
  };
  d("health-interval", "intervalMs");
  d("health-timeout", "timeoutMs");
  d("health-start-period", "startPeriodMs");
  const r = values["health-retries"];
  if (r !== undefined) h.retries = parsePositive("--health-retries", r, true);
  return h;
}

/** The API body of POST /weft/v1/containers/create for these flags and IMAGE [CMD...]. */
export function runBody(values: Values, positionals: string[]): Record<string, unknown> {
  const [image, ...cmd] = positionals[0] === "--" ? positionals.slice(1) : positionals;
  if (!image) throw new UsageError("missing IMAGE");
  const ports = (values.port ?? []).map((p) => {
    try {
      return parsePort(p, "--port");
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  });
  keyValues("--env", values.env ?? []);
  const body = {
    image,
    name: values.name,
    cmd: cmd.length > 0 ? cmd : undefined,
    env: values.env ?? [],
    service: values.service,
    ports,
    labels: keyValues("--label", values.label ?? []),
    networks: networksFlag(values.network, values["network-alias"] ?? []),
    user: values.user,
    workdir: values.workdir,
    // Docker's --entrypoint is one program; "" resets the image's.
    entrypoint:
      values.entrypoint === undefined ? undefined : values.entrypoint === "" ? [] : [values.entrypoint],
    hostname: values.hostname,
    volumes: (values.volume ?? []).map((v) => {
      try {
        parseVolume(v, "-v"); // checked here too, so a typo fails before the daemon is asked
        return v;
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }),
    autoRemove: values.rm ?? false,
    readOnly: values["read-only"] ?? false,
    capAdd: values["cap-add"] ?? [],
    capDrop: values["cap-drop"] ?? [],
    privileged: values.privileged ?? false,
    securityOpt: values["security-opt"] ?? [],
    userns: values.userns,
    memoryBytes: values.memory === undefined ? undefined : parseSize("--memory", values.memory),
    cpus: values.cpus === undefined ? undefined : parsePositive("--cpus", values.cpus, false),
    pids: values.pids === undefined ? undefined : parsePositive("--pids", values.pids, true),
    cpuShares:
      values["cpu-shares"] === undefined
        ? undefined
        : parsePositive("--cpu-shares", values["cpu-shares"], true),
    sidecar: !values["no-sidecar"],
    restart: values.restart,
    publish: (values.publish ?? []).map((p) => {
      usage(() => parsePublish(p, { flag: "-p" }));
      return p;
    }),
    tmpfs: (values.tmpfs ?? []).map((v) => {
      usage(() => parseTmpfs(v, "--tmpfs"));
      return v;
    }),
    healthcheck: healthcheck(values),
    noHealthcheck: values["no-healthcheck"] || undefined,
    tty: values.tty,
    interactive: values.interactive,
    stopTimeoutS:
      values["stop-timeout"] === undefined ? undefined : usage(() => stopTimeout(values["stop-timeout"]!)),
    stopSignal: values["stop-signal"],
  };
  return body;
}

function networksFlag(network: string | undefined, aliases: string[]) {
  if (network === undefined) {
    if (aliases.length > 0) throw new UsageError("--network-alias needs --network NAME");
    return undefined;
  }
  return { [network]: { aliases } };
}

function stopTimeout(text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`--stop-timeout expects whole seconds, got "${text}"`);
  return Number(text);
}
