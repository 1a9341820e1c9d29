// `weft kv get|put|delete`: the control plane's Consul KV store from the command line, as
// `consul kv` reads and writes it (values as they are, a tree with --recurse).
import { readFileSync } from "node:fs";
import { type Command, parseFlags, UsageError } from "../../cli/index";
import { controlPlaneUrl, unreachable } from "./api/client";
import { CLIENT_HELP, clientFlags } from "./config-cli";
import { ControlPlaneError } from "./errors";

const flags = clientFlags;

/** One KV request; the answer's status and bytes. Unreachable is a ControlPlaneError saying what to do. */
async function kvCall(
  values: { "control-plane"?: string; token?: string },
  method: string,
  key: string,
  query = "",
  body?: Buffer,
): Promise<{ status: number; body: Buffer }> {
  const base = controlPlaneUrl(values["control-plane"]);
  const token = values.token || process.env.WEFT_TOKEN || "";
  const path = `/v1/kv/${key.split("/").map(encodeURIComponent).join("/")}${query}`;
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      body,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw unreachable(base, err);
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  if (res.status >= 400 && res.status !== 404) {
    let message = bytes.toString("utf8");
    try {
      message = (JSON.parse(message) as { error?: string }).error ?? message;
    } catch {}
    throw new ControlPlaneError("INVALID_ARGUMENT", `the control plane answered ${res.status}: ${message}`);
  }
  return { status: res.status, body: bytes };
}

const kvGet: Command = {
  name: "kv get",
  summary: "Print a key's value from the Consul-compatible KV store (a tree with --recurse)",
  usage: `Usage: weft kv get [--recurse] KEY

Prints the value as stored. With --recurse, every key under KEY as KEY:VALUE lines. Exit code 1
when there is no such key.

Options:
  --recurse            every key under KEY
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...flags, recurse: { type: "boolean" } });
    if (positionals.length !== 1) throw new UsageError("weft kv get takes one KEY");
    const key = positionals[0] as string;
    const res = await kvCall(values, "GET", key, values.recurse ? "?recurse" : "?raw");
    if (res.status === 404) {
      process.stderr.write(`Error! No key exists at: ${key}\n`);
      return 1;
    }
    if (!values.recurse) {
      process.stdout.write(res.body);
      process.stdout.write("\n");
      return 0;
    }
    for (const e of JSON.parse(res.body.toString()) as Array<{ Key: string; Value: string | null }>)
      process.stdout.write(`${e.Key}:${Buffer.from(e.Value ?? "", "base64").toString()}\n`);
    return 0;
  },
};

const kvPut: Command = {
  name: "kv put",
  summary: "Write a key's value in the Consul-compatible KV store",
  usage: `Usage: weft kv put [--flags N] [--cas --modify-index N] KEY [VALUE | - | @FILE]

VALUE as given, "-" for standard input, @FILE for a file's bytes; nothing for an empty value.

Options:
  --flags N            Consul's 64-bit flags kept with the value
  --cas                write only if the key's modify index is --modify-index (0: only if absent)
  --modify-index N     the index --cas compares with
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...flags,
      flags: { type: "string" },
      cas: { type: "boolean" },
      "modify-index": { type: "string" },
    });
    if (positionals.length < 1 || positionals.length > 2)
      throw new UsageError("weft kv put takes a KEY and a VALUE (or - or @FILE)");
    const [key, given = ""] = positionals as [string, string?];
    const value =
      given === "-"
        ? readFileSync(0)
        : given.startsWith("@")
          ? readFileSync(given.slice(1))
          : Buffer.from(given, "utf8");
    const query = new URLSearchParams();
    if (values.flags !== undefined) query.set("flags", values.flags);
    if (values.cas) {
      if (values["modify-index"] === undefined) throw new UsageError("--cas needs --modify-index N");
      query.set("cas", values["modify-index"]);
    }
    const q = query.size > 0 ? `?${query}` : "";
    const res = await kvCall(values, "PUT", key, q, value);
    if (res.body.toString().trim() !== "true") {
      process.stderr.write(`Error! Did not write to ${key}: the modify index did not match (--cas)\n`);
      return 1;
    }
    process.stdout.write(`Success! Data written to: ${key}\n`);
    return 0;
  },
};

const kvDelete: Command = {
  name: "kv delete",
  summary: "Remove a key (or a tree with --recurse) from the Consul-compatible KV store",
  usage: `Usage: weft kv delete [--recurse] KEY

Options:
  --recurse            every key under KEY
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...flags, recurse: { type: "boolean" } });
    if (positionals.length !== 1) throw new UsageError("weft kv delete takes one KEY");
    const key = positionals[0] as string;
    await kvCall(values, "DELETE", key, values.recurse ? "?recurse" : "");
    process.stdout.write(`Success! Deleted key${values.recurse ? "s under" : ""}: ${key}\n`);
    return 0;
  },
};

export const kvCommands: Command[] = [kvGet, kvPut, kvDelete];
