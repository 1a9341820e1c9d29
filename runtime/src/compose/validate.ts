// Loading weft.yaml: YAML parse errors and every field error name the file and line, the field path
// and what is allowed; services come back in depends_on order.
import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { ComposeError } from "./errors";
import { FieldContext, type FieldPath } from "./fields";
import type { Manifest, ServiceConfig } from "./manifest";
import { readService } from "./validate-service";

const TOP_FIELDS = ["name", "services", "volumes", "version"] as const;
const PROJECT_RE = /^[a-z0-9][a-z0-9_-]*$/;
const SERVICE_KEY_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** The daemon's limit on container names. */
const MAX_NAME = 63;

/** Reads and validates a manifest file; `project` (-p) overrides its name. */
export function loadManifest(file: string, opts: { project?: string } = {}): Manifest {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ComposeError(
      "MANIFEST_NOT_FOUND",
      code === "ENOENT"
        ? `${file}: no such file; give the manifest with -f (default ./weft.yaml)`
        : `${file}: cannot read it: ${(err as Error).message}`,
    );
  }
  return parseManifest(text, { file, dir: dirname(resolve(file)), project: opts.project });
}

/** Parses and validates manifest text. `dir` resolves relative paths; `file` names it in errors. */
export function parseManifest(text: string, o: { file: string; dir: string; project?: string }): Manifest {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lines.linePos(e.pos[0]);
    throw new ComposeError(
      "INVALID_MANIFEST",
      `${o.file}${pos ? `:${pos.line}:${pos.col}` : ""}: not valid YAML: ${e.message.split("\n")[0]}`,
    );
  }
  const locate = (path: FieldPath): number | undefined => {
    // The key's line reads best ("services.web.replicas" points at "replicas:"); fall back to the value.
    const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
      const key = pair?.key;
      if (isNode(key) && key.range) return lines.linePos(key.range[0]).line;
    }
    const node = doc.getIn(path, true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    if (isSeq(parent) && parent.range) return lines.linePos(parent.range[0]).line;
    return undefined;
  };
  const ctx = new FieldContext(o.file, locate);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // An alias whose anchor is missing or comes later, or aliases past the count (a "billion laughs"
    // file): the parser finds these only when it builds the values.
    throw new ComposeError("INVALID_MANIFEST", `${o.file}: not valid YAML: ${(err as Error).message}`);
  }
  if (raw === null || raw === undefined)
    throw ctx.error([], "is empty; it needs at least services: {NAME: {image: ...}}");
  const top = ctx.map([], raw, "name, services and volumes");
  ctx.onlyKeys([], top, TOP_FIELDS);

  let project = o.project;
  let projectField: FieldPath = [];
  if (project === undefined && top.name !== undefined) {
    project = ctx.string(["name"], top.name, "a project name");
    projectField = ["name"];
  }
  if (project === undefined) {
    project = basename(o.dir)
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, "")
      .replace(/^[_-]+/, "");
  }
  if (!PROJECT_RE.test(project)) {
    const message = `project name "${project}" is invalid: use lower-case letters, digits, '_' and '-', starting with a letter or digit`;
    if (projectField.length > 0) throw ctx.error(projectField, `(${message})`);
    throw new ComposeError(
      "INVALID_MANIFEST",
      `${o.file}: ${message}; give one with -p NAME or name: in the file`,
    );
  }

  const volumes = readVolumes(ctx, top.volumes);
  if (top.services === undefined)
    throw ctx.error(["services"], "is required: services: {NAME: {image: ...}}");
  const servicesRaw = ctx.map(["services"], top.services, "NAME: {image: ...}");
  if (Object.keys(servicesRaw).length === 0)
    throw ctx.error(["services"], "is empty; define at least one service");
  const services: ServiceConfig[] = [];
  for (const [name, rawService] of Object.entries(servicesRaw)) {
    if (!SERVICE_KEY_RE.test(name)) {
      throw ctx.error(
        ["services", name],
        "is not a valid service name: use letters, digits, '_', '.' and '-'",
      );
    }
    const longest = `${project}-${name}-100`;
    if (longest.length > MAX_NAME) {
      throw ctx.error(
        ["services", name],
        `makes container names like "${longest}" longer than ${MAX_NAME} characters; use a shorter project or service name`,
      );
    }
    services.push(readService({ ctx, dir: o.dir, volumes, volumePrefix: `${project}_` }, name, rawService));
  }
  return { file: o.file, project, services: dependencyOrder(ctx, services), volumes };
}

function readVolumes(ctx: FieldContext, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const map = ctx.map(["volumes"], v, "NAME: {} (named volumes)");
  for (const [name, opts] of Object.entries(map)) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
      throw ctx.error(["volumes", name], "is not a valid volume name: use letters, digits, '_', '.' and '-'");
    }
    if (opts !== null && opts !== undefined)
      ctx.onlyKeys(["volumes", name], ctx.map(["volumes", name], opts, "options"), []);
  }
  return Object.keys(map);
}

/** Sorts services so each comes after its dependencies; refuses unknown names and cycles. */
function dependencyOrder(ctx: FieldContext, services: ServiceConfig[]): ServiceConfig[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  for (const s of services) {
    s.dependsOn.forEach((d, i) => {
      const dep = byName.get(d.service);
      const path: FieldPath = ["services", s.name, "depends_on", i];
      if (!dep) {
        throw ctx.error(
          path,
          `names "${d.service}", which is not a service in this file; services: ${[...byName.keys()].join(", ")}`,
        );
      }
      if (d.service === s.name) throw ctx.error(path, "names the service itself");
      if (d.condition === "service_healthy" && !dep.healthcheck) {
        throw ctx.error(
          path,
          `waits for "${d.service}" to be healthy, but services.${d.service} has no healthcheck; add one or use condition: service_started`,
        );
      }
    });
  }
  const out: ServiceConfig[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (s: ServiceConfig, chain: string[]) => {
    if (state.get(s.name) === "done") return;
    if (state.get(s.name) === "visiting") {
      const cycle = [...chain.slice(chain.indexOf(s.name)), s.name].join(" -> ");
      throw ctx.error(
        ["services", s.name, "depends_on"],
        `forms a cycle (${cycle}); remove one of these dependencies`,
      );
    }
    state.set(s.name, "visiting");
    for (const d of s.dependsOn) visit(byName.get(d.service)!, [...chain, s.name]);
    state.set(s.name, "done");
    out.push(s);
  };
  for (const s of services) visit(s, []);
  return out;
}
