// `weft run`: create and start a container (always detached; -d is accepted for Docker habits).
import { type Command, keyValues, parseFlags, UsageError } from "../../../cli/index";
import { parsePort } from "../engine/validate";
import { parseVolume } from "../volumes/index";
import { clientFor, HOST_FLAG, HOST_USAGE } from "./client";
import { parsePositive, parseSize } from "./units";

const USAGE = `Usage: weft run [OPTIONS] IMAGE [CMD...]

Creates and starts a container with a sidecar in its network namespace; prints its id.

Options:
  -d, --detach           run in the background (the only mode; accepted for Docker habits)
  --name NAME            container name (default: a generated one)
  --service NAME         register the container as an endpoint of this service
  --port PORT[/PROTO]    a port the app serves, PROTO http or tcp (default tcp); repeatable
  --label KEY=VALUE      a label (routes split traffic by labels); repeatable
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
${HOST_USAGE}`;

export const runCommand: Command = {
  name: "run",
  summary: "Create and start a container",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        detach: { type: "boolean", short: "d" },
        name: { type: "string" },
        service: { type: "string" },
        port: { type: "string", multiple: true },
        label: { type: "string", multiple: true },
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
        ...HOST_FLAG,
      },
      { stopAtPositional: true },
    );
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
    };
    const client = clientFor(values.host);
    const query = values.name ? `?name=${encodeURIComponent(values.name)}` : "";
    const created = await client.json<{ Id: string }>("POST", `/containers/create${query}`, body);
    process.stdout.write(`${created.Id}\n`);
    return 0;
  },
};
