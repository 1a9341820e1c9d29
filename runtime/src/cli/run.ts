// `weft run`: create and start a container (always detached; -d is accepted for Docker habits).
import { type Command, keyValues, parseFlags, UsageError } from "../../../cli/index";
import { parsePort } from "../engine/validate";
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
  -u, --user UID[:GID]   the user the app runs as (uid 1337 is reserved for the sidecar)
  --memory SIZE          memory limit, e.g. 64m
  --cpus N               CPU limit, e.g. 0.5
  --pids N               most processes at once
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
        memory: { type: "string" },
        cpus: { type: "string" },
        pids: { type: "string" },
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
      memoryBytes: values.memory === undefined ? undefined : parseSize("--memory", values.memory),
      cpus: values.cpus === undefined ? undefined : parsePositive("--cpus", values.cpus, false),
      pids: values.pids === undefined ? undefined : parsePositive("--pids", values.pids, true),
      sidecar: !values["no-sidecar"],
    };
    const client = clientFor(values.host);
    const query = values.name ? `?name=${encodeURIComponent(values.name)}` : "";
    const created = await client.json<{ Id: string }>("POST", `/containers/create${query}`, body);
    process.stdout.write(`${created.Id}\n`);
    return 0;
  },
};
