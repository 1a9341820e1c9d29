// The mesh config verbs, kubectl style: `weft apply -f`, `weft get`, `weft delete`, `weft history`.
// They read and change config through the control plane's /api/v1/config.
import { readFileSync } from "node:fs";
import { type Command, formatTable, parseFlags, UsageError } from "../../cli/index";
import {
  type ApplyResult,
  CONFIG_KINDS,
  ConfigError,
  type ConfigKind,
  type ConfigObject,
  ConfigValidationError,
  type HistoryEntry,
  isConfigKind,
  type ParsedDocument,
  parseDocuments,
  pluralOf,
  qualifiedName,
  resolveKind,
} from "./config/index";
import { configClient } from "./config-cli-client";
import { age, objectRow, SUMMARY_HEADERS, summaryCells, toYaml } from "./config-cli-format";

/** --control-plane and --token, for the verbs that change the control plane's state (kv-cli.ts too). */
export const clientFlags = {
  "control-plane": { type: "string" },
  token: { type: "string" },
} as const;

export const CLIENT_HELP = `  --control-plane URL  the control plane's HTTP API (default $WEFT_CONTROL_PLANE or http://127.0.0.1:15080)
  --token T            sent as "Authorization: Bearer T" (default $WEFT_TOKEN)`;

const KINDS_HELP = `Kinds: service (services, svc), route (routes, rt), resiliencepolicy (resiliencepolicies, rp),
       telemetry (telemetries, tel), authorizationpolicy (authorizationpolicies, authz, ap)`;

function client(values: { "control-plane"?: string; token?: string }) {
  return configClient({ controlPlane: values["control-plane"], token: values.token });
}

function output(value: string | undefined): "json" | "yaml" | undefined {
  if (value === undefined || value === "json" || value === "yaml") return value;
  throw new UsageError(`-o expects json or yaml, got "${value}"`);
}

interface FileDocument extends ParsedDocument {
  file: string;
}

/** Reads every -f (a file, or '-' for stdin); a syntax error names the file. */
function readFiles(files: string[]): FileDocument[] {
  if (files.length === 0) throw new UsageError("name the documents with -f FILE (or -f - for stdin)");
  return files.flatMap((file) => {
    const label = file === "-" ? "<stdin>" : file;
    let text: string;
    try {
      text = readFileSync(file === "-" ? 0 : file, "utf8");
    } catch (err) {
      throw new ConfigError(
        "BAD_DOCUMENT",
        `${label}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    try {
      return parseDocuments(text, { json: file.endsWith(".json") }).map((d) => ({ ...d, file: label }));
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(err.code, `${label}: ${err.message}`);
      throw err;
    }
  });
}

/** "mesh.yaml: document 2 (Route "reviews"): spec.rules[0]... must be ..." */
function locate(err: unknown, docs: FileDocument[]): unknown {
  if (!(err instanceof ConfigValidationError) || err.document === undefined) return err;
  const doc = docs[err.document];
  if (!doc) return err;
  const v = doc.value as { kind?: unknown; metadata?: { name?: unknown } } | null;
  const what =
    v && typeof v.kind === "string" && typeof v.metadata?.name === "string"
      ? ` (${v.kind} "${v.metadata.name}")`
      : "";
  const located = new ConfigValidationError(
    err.field,
    `${doc.file}: ${doc.origin}${what}: ${err.message}`,
    err.allowed,
  );
  located.document = err.document;
  return located;
}

const apply: Command = {
  name: "apply",
  summary: "Create or change mesh config from YAML or JSON documents (all or nothing)",
  usage: `Usage: weft apply -f FILE [-f FILE...] [OPTIONS]

Applies Service, Route, ResiliencePolicy, Telemetry and AuthorizationPolicy documents (apiVersion:
weft.dev/v1), in multi-document YAML or JSON; '-f -' reads stdin. Every document is validated first;
if any is invalid nothing is stored. Prints "KIND.weft.dev/NAME created|configured|unchanged" per object.
A document carrying metadata.version is applied only if that is still the object's version.

Options:
  -f, --filename FILE  documents to apply (repeatable)
  --dry-run            check every document on the control plane and print what would change,
                       storing nothing (as kubectl apply --dry-run=server; --dry-run=server too)
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv.filter(dryRunValue), {
      ...clientFlags,
      filename: { type: "string", short: "f", multiple: true },
      "dry-run": { type: "boolean" },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const dryRun = values["dry-run"] || argv.includes("--dry-run=server");
    const docs = readFiles(values.filename ?? []);
    if (docs.length === 0) throw new UsageError("the files hold no documents");
    let body: { results: ApplyResult[] };
    try {
      body = await client(values).request(
        "POST",
        dryRun ? "/api/v1/config/apply?dryRun=All" : "/api/v1/config/apply",
        docs.map((d) => d.value),
      );
    } catch (err) {
      throw locate(err, docs);
    }
    for (const r of body.results) {
      process.stdout.write(`${qualifiedName(r.kind, r.name)} ${r.action}${dryRun ? " (dry run)" : ""}\n`);
      // As kubectl prints a server's warnings: applied, but not doing what it says yet.
      for (const w of r.warnings ?? [])
        process.stderr.write(`Warning: ${qualifiedName(r.kind, r.name)}: ${w}\n`);
    }
    return 0;
  },
};

/** Keeps all but kubectl's --dry-run=server and =none (read apart); another value is refused. */
function dryRunValue(arg: string): boolean {
  if (!arg.startsWith("--dry-run=")) return true;
  const v = arg.slice("--dry-run=".length);
  if (v === "server" || v === "none") return false;
  throw new UsageError(`--dry-run takes no value, or "server" as kubectl's, got "${v}"`);
}

const get: Command = {
  name: "get",
  summary: "Show mesh config objects (table, -o json or -o yaml)",
  usage: `Usage: weft get KIND [NAME] [OPTIONS]
       weft get KIND,KIND... | all [OPTIONS]

${KINDS_HELP}
'all' is every kind: 'weft get all -o yaml > mesh.yaml' saves the whole mesh config, to edit and
apply again. Each document keeps metadata.version, which refuses an edit made over someone else's
change; delete those lines to apply the file to another control plane.

Options:
  -o, --output FORMAT  json or yaml (both can be edited and applied again); a table otherwise
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...clientFlags,
      output: { type: "string", short: "o" },
    });
    const [kindText, name, extra] = positionals;
    if (!kindText) throw new UsageError("name a kind, e.g. 'weft get routes' (or 'weft get all')");
    if (extra) throw new UsageError(`unexpected argument "${extra}"`);
    const format = output(values.output);
    const kinds =
      kindText.toLowerCase() === "all"
        ? [...CONFIG_KINDS]
        : [
            ...new Set(
              kindText
                .split(",")
                .filter((k) => k !== "")
                .map(resolveKind),
            ),
          ];
    if (kinds.length === 0) throw new UsageError("name a kind, e.g. 'weft get routes' (or 'weft get all')");
    if (kinds.length !== 1) {
      if (name) throw new UsageError(`a name goes with one kind: 'weft get ${pluralOf(kinds[0]!)} ${name}'`);
      return getMany(kinds, format, client(values));
    }
    const kind = kinds[0]!;
    const path = `/api/v1/config/${pluralOf(kind)}${name ? `/${encodeURIComponent(name)}` : ""}`;
    const body = await client(values).request<ConfigObject | ConfigObject[]>("GET", path);
    const items = Array.isArray(body) ? body : [body];
    if (format === "json") process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    else if (format === "yaml") process.stdout.write(toYaml(items));
    else if (items.length === 0) process.stderr.write(`No ${pluralOf(kind)} found.\n`);
    else
      process.stdout.write(
        `${formatTable(["name", ...SUMMARY_HEADERS[kind], "version", "age"], items.map(objectRow))}\n`,
      );
    return 0;
  },
};

/**
 * `weft get all` and `weft get routes,svc`, as kubectl's: a table per kind that has objects, their
 * names kind-qualified (route.weft.dev/back) and the tables a blank line apart; -o json is one list
 * and -o yaml one document per object, both in the order the kinds were named, to apply again.
 */
async function getMany(
  kinds: ConfigKind[],
  format: "json" | "yaml" | undefined,
  api: ReturnType<typeof client>,
): Promise<number> {
  const lists = await Promise.all(
    kinds.map((k) => api.request<ConfigObject[]>("GET", `/api/v1/config/${pluralOf(k)}`)),
  );
  const items = lists.flat();
  if (format === "json") process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
  else if (format === "yaml") process.stdout.write(toYaml(items));
  else if (items.length === 0) process.stderr.write(`No ${kinds.map(pluralOf).join(", ")} found.\n`);
  else {
    const tables = kinds.flatMap((kind, i) => {
      const list = lists[i] ?? [];
      if (list.length === 0) return [];
      const rows = list.map((o) => [qualifiedName(kind, o.metadata.name), ...objectRow(o).slice(1)]);
      return [formatTable(["name", ...SUMMARY_HEADERS[kind], "version", "age"], rows)];
    });
    process.stdout.write(`${tables.join("\n\n")}\n`);
  }
  return 0;
}

const del: Command = {
  name: "delete",
  summary: "Delete mesh config objects by kind and name, or those named in files",
  usage: `Usage: weft delete KIND NAME [OPTIONS]
       weft delete -f FILE [OPTIONS]

${KINDS_HELP}

Options:
  -f, --filename FILE   delete the objects these documents name (repeatable; '-' for stdin)
  --ignore-not-found    an object that does not exist is not an error
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...clientFlags,
      filename: { type: "string", short: "f", multiple: true },
      "ignore-not-found": { type: "boolean" },
    });
    const targets: Array<{ kind: ConfigKind; name: string; where?: string }> = [];
    const files = values.filename ?? [];
    if (files.length > 0) {
      if (positionals.length > 0) throw new UsageError("give either -f FILE or KIND NAME, not both");
      for (const d of readFiles(files)) {
        const v = d.value as { kind?: unknown; metadata?: { name?: unknown } } | null;
        const name = v?.metadata?.name;
        if (!v || !isConfigKind(v.kind) || typeof name !== "string") {
          throw new ConfigError(
            "BAD_DOCUMENT",
            `${d.file}: ${d.origin}: needs a kind (Service, Route, ResiliencePolicy, Telemetry, AuthorizationPolicy) and metadata.name to delete`,
          );
        }
        targets.push({ kind: v.kind, name, where: `${d.file}: ${d.origin}: ` });
      }
    } else {
      const [kindText, name, extra] = positionals;
      if (!kindText || !name)
        throw new UsageError(
          "name what to delete, e.g. 'weft delete route reviews' or 'weft delete -f mesh.yaml'",
        );
      if (extra) throw new UsageError(`unexpected argument "${extra}"`);
      targets.push({ kind: resolveKind(kindText), name });
    }
    const api = client(values);
    let failed = 0;
    for (const t of targets) {
      try {
        await api.request("DELETE", `/api/v1/config/${pluralOf(t.kind)}/${encodeURIComponent(t.name)}`);
        process.stdout.write(`${qualifiedName(t.kind, t.name)} deleted\n`);
      } catch (err) {
        if (err instanceof ConfigError && err.code === "CONFIG_NOT_FOUND") {
          if (values["ignore-not-found"]) continue;
          if (targets.length === 1) throw err;
          process.stderr.write(`weft delete: ${t.where ?? ""}${err.message}\n`);
          failed++;
          continue;
        }
        throw err;
      }
    }
    return failed > 0 ? 1 : 0;
  },
};

const history: Command = {
  name: "history",
  summary: "Show every version of a mesh config object",
  usage: `Usage: weft history KIND NAME [OPTIONS]

${KINDS_HELP}

Options:
  -o, --output FORMAT  json or yaml; a table otherwise
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      ...clientFlags,
      output: { type: "string", short: "o" },
    });
    const [kindText, name, extra] = positionals;
    if (!kindText || !name) throw new UsageError("name the object, e.g. 'weft history route reviews'");
    if (extra) throw new UsageError(`unexpected argument "${extra}"`);
    const kind = resolveKind(kindText);
    const format = output(values.output);
    const entries = await client(values).request<HistoryEntry[]>(
      "GET",
      `/api/v1/config/${pluralOf(kind)}/${encodeURIComponent(name)}/history`,
    );
    if (format === "json") process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    else if (format === "yaml") process.stdout.write(toYaml(entries));
    else {
      const rows = entries.map((e) => [
        String(e.version),
        e.change,
        age(e.at),
        e.at,
        ...summaryCells(kind, e.spec),
      ]);
      process.stdout.write(
        `${formatTable(["version", "change", "age", "time", ...SUMMARY_HEADERS[kind]], rows)}\n`,
      );
    }
    return 0;
  },
};

export const configCommands: Command[] = [apply, get, del, history];
