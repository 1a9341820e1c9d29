// `weft start`, `weft kill`, `weft pause`, `weft unpause`, `weft rename`, `weft restart`, `weft wait`: lifecycle verbs on one or more containers,
// each reported on its own line (Docker's habit: report each failure and go on with the rest).
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "../api/detach-keys";
import type { ContainerState } from "../engine/types";
import { attachSession } from "./attach-session";
import { clientFor, each, HOST_FLAG, HOST_USAGE, ref } from "./client";

const START_USAGE = `Usage: weft start [OPTIONS] CONTAINER...

Starts created or stopped containers (each one's sidecar first).

Options:
  -a, --attach           stay attached to the one container started, as 'weft run' does: its
                         output here, its exit code weft's, signals passed on to the app
  -i, --interactive      with -a, also send this terminal's input to the app (a container made with -i)
  --detach-keys KEYS     keys that detach from an attached start (default ${DEFAULT_DETACH_KEYS})
${HOST_USAGE}`;

export const startCommand: Command = {
  name: "start",
  summary: "Start created or stopped containers (their sidecar first)",
  usage: START_USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      attach: { type: "boolean", short: "a" },
      interactive: { type: "boolean", short: "i" },
      "detach-keys": { type: "string" },
      ...HOST_FLAG,
    });
    const client = clientFor(values.host);
    if (!values.attach && !values.interactive) {
      return each("start", positionals, async (n) => {
        await client.call("POST", `/containers/${ref(n)}/start`);
        return n;
      });
    }
    // As docker start -a / -i: one container, attached before it starts so no output is missed.
    if (positionals.length !== 1)
      throw new UsageError("-a and -i attach to one CONTAINER; start the others apart");
    const detachKeys = parseDetachKeys(values["detach-keys"] ?? DEFAULT_DETACH_KEYS);
    const state = await client.json<ContainerState>("GET", `/containers/${ref(positionals[0]!)}/json`);
    if (values.interactive && state.interactive !== true)
      throw new UsageError(`${state.name} was made without -i, so its app takes no input; use -a alone`);
    return attachSession(client, state.id, {
      stdin: values.interactive === true,
      tty: state.tty === true,
      logs: false,
      detachKeys,
      afterAttach: () => client.call("POST", `/containers/${ref(state.id)}/start`).then(() => undefined),
    });
  },
};

export const killCommand: Command = {
  name: "kill",
  summary: "Send a signal to running containers (default SIGKILL)",
  usage: `Usage: weft kill [-s SIGNAL] CONTAINER...\n\nOptions:\n  -s, --signal SIGNAL    the signal (default SIGKILL)\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      signal: { type: "string", short: "s" },
      ...HOST_FLAG,
    });
    const client = clientFor(values.host);
    const signal = encodeURIComponent(values.signal ?? "SIGKILL");
    return each("kill", positionals, async (n) => {
      await client.call("POST", `/containers/${ref(n)}/kill?signal=${signal}`);
      return n;
    });
  },
};

function pauseVerb(verb: "pause" | "unpause", summary: string, detail: string): Command {
  return {
    name: verb,
    summary,
    usage: `Usage: weft ${verb} CONTAINER...\n\n${detail}\n\nOptions:\n${HOST_USAGE}`,
    async run(argv) {
      const { values, positionals } = parseFlags(argv, HOST_FLAG);
      const client = clientFor(values.host);
      return each(verb, positionals, async (n) => {
        await client.call("POST", `/containers/${ref(n)}/${verb}`);
        return n;
      });
    },
  };
}

export const pauseCommand = pauseVerb(
  "pause",
  "Freeze every process of running containers",
  "The app's processes stop where they are (the cgroup freezer, as docker pause) and the container\nleaves the service registry, so the mesh sends its requests to other replicas. Its sidecar keeps\nrunning. 'weft unpause' thaws it; 'weft stop' and 'weft rm -f' work on a paused container.",
);

export const unpauseCommand = pauseVerb(
  "unpause",
  "Thaw paused containers",
  "The app's processes go on where they stopped, and the container is registered again (once\nhealthy, when it has a health check).",
);

export const renameCommand: Command = {
  name: "rename",
  summary: "Give a container another name",
  usage: `Usage: weft rename CONTAINER NEW_NAME

As docker rename: running or not, the app goes on as it is (its address and hostname stay); the
registry and every verb use the new name at once. Its sidecar names the container in spans and
access logs by the name it started with, until it next starts.

Options:
${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    if (positionals.length !== 2) throw new UsageError("rename takes CONTAINER and NEW_NAME");
    const [from, to] = positionals as [string, string];
    await clientFor(values.host).call(
      "POST",
      `/containers/${ref(from)}/rename?name=${encodeURIComponent(to)}`,
    );
    return 0;
  },
};

export const restartCommand: Command = {
  name: "restart",
  summary: "Stop and start containers again",
  usage: `Usage: weft restart [-t SECONDS] CONTAINER...\n\nOptions:\n  -t, --time SECONDS     grace period before SIGKILL (default the container's --stop-timeout)\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { time: { type: "string", short: "t" }, ...HOST_FLAG });
    if (values.time !== undefined && !/^\d+$/.test(values.time)) {
      throw new UsageError(`--time expects whole seconds, got "${values.time}"`);
    }
    const client = clientFor(values.host);
    const q = values.time === undefined ? "" : `?t=${values.time}`;
    return each("restart", positionals, async (n) => {
      await client.call("POST", `/containers/${ref(n)}/restart${q}`);
      return n;
    });
  },
};

export const waitCommand: Command = {
  name: "wait",
  summary: "Wait until containers stop, then print their exit codes",
  usage: `Usage: weft wait [--condition C] CONTAINER...\n\nOptions:\n  --condition C          not-running (default), next-exit or removed\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { condition: { type: "string" }, ...HOST_FLAG });
    const client = clientFor(values.host);
    const q = values.condition ? `?condition=${encodeURIComponent(values.condition)}` : "";
    return each("wait", positionals, async (n) => {
      const r = await client.json<{ exitCode: number }>("POST", `/containers/${ref(n)}/wait${q}`);
      return String(r.exitCode);
    });
  },
};
