// `weft exec [-i] [-t] CONTAINER CMD...`: runs CMD in the container with its output streamed as it
// comes; -i sends this terminal's input, -t gives CMD a terminal (raw mode here while it runs).
import { type Command, parseFlags, UsageError } from "../../../cli/index";
import { FRAME_EXIT, FRAME_STDERR, FRAME_STDOUT, FrameReader } from "../api/exec-stream";
import { clientFor, HOST_FLAG, HOST_USAGE, ref } from "./client";

const USAGE = `Usage: weft exec [OPTIONS] CONTAINER CMD...

Runs CMD in the running container, prints its output as it comes and exits with its code.

Options:
  -i, --interactive      send this terminal's input to CMD
  -t, --tty              give CMD a terminal
  -e, --env KEY=VALUE    an environment variable; repeatable
  -u, --user USER        UID[:GID] to run as (default the container's)
  -w, --workdir DIR      working directory (default the container's)
${HOST_USAGE}`;

export const execCommand: Command = {
  name: "exec",
  summary: "Run a command in a running container",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        interactive: { type: "boolean", short: "i" },
        tty: { type: "boolean", short: "t" },
        env: { type: "string", short: "e", multiple: true },
        user: { type: "string", short: "u" },
        workdir: { type: "string", short: "w" },
        ...HOST_FLAG,
      },
      { stopAtPositional: true },
    );
    const [name, ...cmd] = positionals;
    if (!name) throw new UsageError("missing CONTAINER");
    const args = cmd[0] === "--" ? cmd.slice(1) : cmd;
    if (args.length === 0) throw new UsageError("missing CMD");
    const q = new URLSearchParams();
    for (const a of args) q.append("cmd", a);
    for (const e of values.env ?? []) q.append("env", e);
    if (values.user) q.set("user", values.user);
    if (values.workdir) q.set("workdir", values.workdir);
    if (values.tty) q.set("tty", "1");
    // The terminal's size, so that the command's terminal starts as large as this one.
    if (values.tty && process.stdout.isTTY && process.stdout.rows && process.stdout.columns) {
      q.set("rows", String(process.stdout.rows));
      q.set("cols", String(process.stdout.columns));
    }
    if (values.interactive) q.set("interactive", "1");
    const raw = values.tty && values.interactive && process.stdin.isTTY;
    if (raw) process.stdin.setRawMode(true);
    try {
      const res = await clientFor(values.host).duplex(
        "POST",
        `/containers/${ref(name)}/exec/stream?${q}`,
        values.interactive ? process.stdin : undefined,
      );
      const frames = new FrameReader();
      let code = 1;
      for await (const chunk of res) {
        for (const f of frames.push(chunk as Buffer)) {
          if (f.stream === FRAME_STDOUT) process.stdout.write(f.payload);
          else if (f.stream === FRAME_STDERR) process.stderr.write(f.payload);
          else if (f.stream === FRAME_EXIT) code = Number(f.payload.toString());
        }
      }
      return code;
    } finally {
      if (raw) process.stdin.setRawMode(false);
      // Our stdin would keep the process alive after CMD ended.
      if (values.interactive) process.stdin.destroy();
    }
  },
};
