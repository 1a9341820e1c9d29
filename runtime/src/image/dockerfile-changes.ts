// Dockerfile instructions applied to an image config, as `docker commit --change` and
// `docker import --change` take them: CMD, ENTRYPOINT (exec form ["a","b"] or shell form), ENV,
// EXPOSE, LABEL, USER, WORKDIR. Others are refused with the list of these.
import { ImageError } from "./errors";
import type { ImageConfig } from "./record";

const SUPPORTED = ["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "WORKDIR"];
/** KEY=VALUE, each bare, "double-quoted" (with \ escapes) or 'single-quoted' (the value). */
const PAIR = /("(?:[^"\\]|\\.)*"|[^\s="]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/y;

function bad(change: string, why: string): ImageError {
  return new ImageError("BAD_CHANGE", `--change "${change}": ${why}`);
}

/** `config` with each change applied in order (a new object; `config` is not changed). */
export function applyChanges(config: ImageConfig, changes: readonly string[]): ImageConfig {
  const out: ImageConfig = { ...config, env: [...config.env], labels: { ...config.labels } };
  out.exposedPorts = [...config.exposedPorts];
  for (const change of changes) {
    const m = /^\s*(\S+)\s*(.*?)\s*$/s.exec(change);
    if (!m) continue; // a blank change does nothing, as with docker
    const instruction = (m[1] as string).toUpperCase();
    const rest = m[2] as string;
    if (!SUPPORTED.includes(instruction))
      throw bad(change, `weft takes ${SUPPORTED.join(", ")}; ${instruction} is not one of them`);
    if (rest === "" && instruction !== "CMD" && instruction !== "ENTRYPOINT")
      throw bad(change, `${instruction} needs an argument`);
    switch (instruction) {
      case "CMD":
        out.cmd = command(change, rest);
        break;
      case "ENTRYPOINT":
        out.entrypoint = command(change, rest);
        out.cmd = []; // as in a Dockerfile: the base's CMD no longer goes with it
        break;
      case "ENV":
        for (const [k, v] of pairs(change, rest, true)) {
          out.env = out.env.filter((e) => !e.startsWith(`${k}=`));
          out.env.push(`${k}=${v}`);
        }
        break;
      case "LABEL":
        for (const [k, v] of pairs(change, rest, false)) out.labels[k] = v;
        break;
      case "EXPOSE":
        for (const p of rest.split(/\s+/)) {
          const e = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (!e || Number(e[1]) < 1 || Number(e[1]) > 65535)
            throw bad(change, `"${p}" is not a port such as 8080 or 53/udp`);
          const port = `${Number(e[1])}/${(e[2] ?? "tcp").toLowerCase()}`;
          if (!out.exposedPorts.includes(port)) out.exposedPorts.push(port);
        }
        break;
      case "USER":
        out.user = rest;
        break;
      case "WORKDIR":
        if (!rest.startsWith("/")) throw bad(change, "WORKDIR must be an absolute path");
        out.workdir = rest;
        break;
    }
  }
  return out;
}

/** The exec form (a JSON list of strings) as is; the shell form runs under /bin/sh -c. */
function command(change: string, rest: string): string[] {
  if (rest === "") return [];
  if (!rest.startsWith("[")) return ["/bin/sh", "-c", rest];
  let parsed: unknown;
  try {
    parsed = JSON.parse(rest);
  } catch {
    throw bad(change, 'the exec form must be a JSON list of strings, e.g. ["httpd", "-f"]');
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string"))
    throw bad(change, 'the exec form must be a JSON list of strings, e.g. ["httpd", "-f"]');
  return parsed;
}

/** KEY=VALUE pairs; with `legacy` (ENV), also Dockerfile's old "KEY VALUE" form. */
function pairs(change: string, rest: string, legacy: boolean): Array<[string, string]> {
  const first = /^(\S+)(\s+|$)/.exec(rest)?.[1] ?? "";
  if (legacy && !first.includes("=")) {
    const value = rest.slice(first.length).trim();
    if (value === "") throw bad(change, `ENV ${first} needs a value: ENV ${first}=VALUE`);
    return [[first, value]];
  }
  const out: Array<[string, string]> = [];
  let at = 0;
  while (at < rest.length) {
    while (rest[at] === " " || rest[at] === "\t") at++;
    if (at >= rest.length) break;
    PAIR.lastIndex = at;
    const m = PAIR.exec(rest);
    if (!m) throw bad(change, `expected KEY=VALUE at "${rest.slice(at)}"`);
    out.push([unquote(m[1] as string), unquote(m[2] as string)]);
    at = PAIR.lastIndex;
  }
  return out;
}

function unquote(v: string): string {
  if (v.startsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, "$1");
  if (v.startsWith("'")) return v.slice(1, -1);
  return v;
}
