// `weft start`, `weft kill`, `weft pause`, `weft unpause`, `weft restart`, `weft wait`: lifecycle verbs on one or more containers,
// each reported on its own line (Docker's habit: report each failure and go on with the rest).
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import { clientFor, each, HOST_FLAG, HOST_USAGE, ref } from "./client";

export const startCommand: Command = {
  name: "start",
  summary: "Start created or stopped containers (their sidecar first)",
  usage: `Usage: weft start CONTAINER...\n\nOptions:\n${HOST_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, HOST_FLAG);
    const client = clientFor(values.host);
    return each("start", positionals, async (n) => {
      await client.call("POST", `/containers/${ref(n)}/start`);
      return n;
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
