// The config verbs as a user runs them: real `weft` processes against a real control plane.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { packageRoot } from "../../cli/index";
import { CONFIG_KINDS } from "./config/index";
import { startControlPlane } from "./server";

const root = packageRoot();
const MESH = join(root, "examples", "hello-mesh", "mesh.yaml");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function weft(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", join(root, "cli", "main.ts"), ...args],
      { cwd: root, env: { ...process.env, WEFT_TOKEN: "", ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), "weft-cfgcli-"));
  const cp = await startControlPlane({
    dataDir: join(dir, "data"),
    grpcPort: 0,
    httpPort: 0,
    grpcSocket: join(dir, "cp.sock"),
    token: "s3cret",
    log: () => {},
  });
  t.teardown(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { WEFT_CONTROL_PLANE: `http://${cp.httpAddress}`, WEFT_TOKEN: "s3cret" };
  return { cp, dir, env };
}

test("apply -f prints what happened to each object; get prints tables and JSON", async (t) => {
  const { cp, env } = await setup(t);
  const applied = await weft(["apply", "-f", MESH], env);
  t.is(applied.code, 0, applied.stderr);
  t.is(
    applied.stdout,
    [
      "service.weft.dev/back created",
      "route.weft.dev/back created",
      "resiliencepolicy.weft.dev/back created",
      "telemetry.weft.dev/back created",
      "",
    ].join("\n"),
  );
  t.regex((await weft(["apply", "-f", MESH], env)).stdout, /^route\.weft\.dev\/back unchanged$/m);
  t.is(cp.registry.getService("back")?.origin, "config");

  const table = await weft(["get", "routes"], env);
  t.is(table.code, 0, table.stderr);
  t.regex(table.stdout, /^NAME\s+SERVICE\s+RULES\s+VERSION\s+AGE$/m);
  t.regex(table.stdout, /^back\s+back\s+.*version=v1:90 version=v2:10\s+2\s+\d+s$/m);
  t.regex((await weft(["get", "svc"], env)).stdout, /^back\s+8080\/http\s+<default>\s+1\s/m);
  t.regex((await weft(["get", "rp", "back"], env)).stdout, /lb=least_request maxConn=100/);
  const json = JSON.parse((await weft(["get", "routes", "-o", "json"], env)).stdout) as Array<{
    spec: { rules: Array<{ split?: Array<{ weight: number }> }> };
  }>;
  // Rules: the /flaky/ fault, /cgi-bin/ to v1, then the 90/10 split.
  t.deepEqual(
    json[0]!.spec.rules[2]!.split!.map((s) => s.weight),
    [90, 10],
  );
});

test("apply --dry-run checks on the control plane and says what would change, storing nothing", async (t) => {
  const { cp, env } = await setup(t);
  const dry = await weft(["apply", "--dry-run", "-f", MESH], env);
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /^route\.weft\.dev\/back created \(dry run\)$/m);
  t.deepEqual(
    CONFIG_KINDS.flatMap((k) => cp.config.list(k)),
    [],
    "nothing stored",
  );
  t.is((await weft(["get", "routes"], env)).stderr, "No routes found.\n");

  t.is((await weft(["apply", "-f", MESH], env)).code, 0);
  const before = cp.config.get("Route", "back");
  const edited = readFileSync(MESH, "utf8")
    .replace("weight: 90", "weight: 80")
    .replace("weight: 10", "weight: 20");
  const again = await weft(["apply", "--dry-run=server", "-f", "-"], env, edited);
  t.regex(again.stdout, /^route\.weft\.dev\/back configured \(dry run\)$/m);
  t.regex(again.stdout, /^service\.weft\.dev\/back unchanged \(dry run\)$/m);
  t.deepEqual(cp.config.get("Route", "back"), before, "the stored route is as it was");
  t.regex(
    (await weft(["get", "routes"], env)).stdout,
    /version=v1:90 version=v2:10/,
    "the stored route is as it was",
  );

  // What a real apply would refuse is refused: a bad field, and an edit over someone else's version.
  const bad = await weft(
    ["apply", "--dry-run", "-f", "-"],
    env,
    edited.replace("timeoutMs: 3000", "timeoutMs: 3s"),
  );
  t.is(bad.code, 1);
  t.regex(bad.stderr, /timeoutMs must be an integer/);
  const stale = edited.replace(
    "kind: Route\nmetadata:\n  name: back",
    "kind: Route\nmetadata:\n  name: back\n  version: 1",
  );
  const conflict = await weft(["apply", "--dry-run", "-f", "-"], env, stale);
  t.is(conflict.code, 1);
  t.regex(conflict.stderr, /version/);
  const client = await weft(["apply", "--dry-run=client", "-f", MESH], env);
  t.is(client.code, 2);
  t.regex(client.stderr, /--dry-run takes no value, or "server"/);
  const api = await fetch(`http://${cp.httpAddress}/api/v1/config/apply?dryRun=maybe`, {
    method: "POST",
    headers: { authorization: "Bearer s3cret", "content-type": "application/json" },
    body: "[]",
  });
  t.is(api.status, 400);
});

test("get routes says which rules rewrite, redirect and mirror", async (t) => {
  const { env } = await setup(t);
  const route = [
    "apiVersion: weft.dev/v1",
    "kind: Service",
    "metadata: {name: back}",
    "spec: {ports: [{port: 8080, protocol: http}]}",
    "---",
    "apiVersion: weft.dev/v1",
    "kind: Route",
    "metadata: {name: legacy}",
    "spec:",
    "  service: back",
    "  rules:",
    "    - match: {pathPrefix: /api}",
    "      rewrite: {pathPrefix: /, authority: back.internal}",
    "    - match: {pathExact: /old}",
    "      redirect: {path: /new, status: 308}",
    "    - match: {pathExact: /login}",
    "      redirect: {scheme: https, authority: auth.example}",
    "    - match: {pathPrefix: /shop}",
    "      mirror: {labels: {version: v2}, ratio: 0.25}",
    "    - {}",
    "",
  ].join("\n");
  const applied = await weft(["apply", "-f", "-"], env, route);
  t.is(applied.code, 0, applied.stderr);
  const table = await weft(["get", "routes"], env);
  t.regex(
    table.stdout,
    /^legacy\s+back\s+\/api\* -> all \(rewrite back\.internal\/\*\); \/old -> redirect 308 \/new; \/login -> redirect 301 https:\/\/auth\.example; \/shop\* -> all \(mirror version=v2 25%\); \* -> all\s/m,
    table.stdout,
  );
});

test("get rp says what a consistent hash reads and whether the sidecar sets the cookie", async (t) => {
  const { env } = await setup(t);
  const doc = (name: string, hash: string) =>
    [
      "apiVersion: weft.dev/v1",
      "kind: Service",
      `metadata: {name: ${name}}`,
      "spec: {ports: [{port: 8080, protocol: http}]}",
      "---",
      "apiVersion: weft.dev/v1",
      "kind: ResiliencePolicy",
      `metadata: {name: ${name}}`,
      `spec: {service: ${name}, consistentHash: ${hash}}`,
    ].join("\n");
  const applied = await weft(
    ["apply", "-f", "-"],
    env,
    [
      doc("cart", "{httpCookieName: session, generateCookie: {ttlSeconds: 7200, path: /cart}}"),
      doc("shop", "{httpCookieName: sid, generateCookie: {}}"),
      doc("user", "{httpHeaderName: X-User}"),
      "",
    ].join("\n---\n"),
  );
  t.is(applied.code, 0, applied.stderr);
  const table = (await weft(["get", "rp"], env)).stdout;
  t.regex(table, /^cart\s+cart\s+lb=consistent_hash hash=cookie:session\(set,2h,path=\/cart\)\s/m, table);
  t.regex(table, /^shop\s+shop\s+lb=consistent_hash hash=cookie:sid\(set,session\)\s/m, table);
  t.regex(table, /^user\s+user\s+lb=consistent_hash hash=header:x-user\s/m, table);
});

test("get rp shows a rate limit per instance, with its bursts and routes; a bad one is refused", async (t) => {
  const { env } = await setup(t);
  const doc = [
    "apiVersion: weft.dev/v1",
    "kind: Service",
    "metadata: {name: orders}",
    "spec: {ports: [{port: 8080, protocol: http}]}",
    "---",
    "apiVersion: weft.dev/v1",
    "kind: ResiliencePolicy",
    "metadata: {name: orders-limits}",
    "spec:",
    "  service: orders",
    "  rateLimit:",
    "    requestsPerSecond: 100",
    "    burst: 200",
    "    routes:",
    "      - {pathExact: /healthz, requestsPerSecond: 0}",
    "      - {pathPrefix: /api/orders, method: post, requestsPerSecond: 5}",
    "",
  ].join("\n");
  const applied = await weft(["apply", "-f", "-"], env, doc);
  t.is(applied.code, 0, applied.stderr);
  const table = (await weft(["get", "rp"], env)).stdout;
  t.regex(
    table,
    /^orders-limits\s+orders\s+rateLimit=100\/s\(200\),\/healthz:off,\/api\/orders\*\[POST\]:5\/s\s/m,
    table,
  );
  const bad = await weft(
    ["apply", "-f", "-"],
    env,
    doc.replace("requestsPerSecond: 100", "requestsPerSecond: 0").replace("burst: 200", "burst: 10"),
  );
  t.is(bad.code, 1);
  t.regex(bad.stderr, /spec\.rateLimit: burst goes with requestsPerSecond/);
  t.regex((await weft(["get", "rp"], env)).stdout, /rateLimit=100\/s\(200\)/, "the stored policy is kept");
});

test("apply prints warnings, kubectl's way, for a canary subset and a mirror no workload has yet", async (t) => {
  const { cp, env } = await setup(t);
  cp.registry.syncEndpoints(
    "daemon:n1",
    [
      {
        id: "b1",
        service: "back",
        address: "10.88.0.9",
        ports: [{ name: "http", port: 8080, protocol: "http" }],
        labels: { version: "v1" },
        workload: "back-1",
        node: "n1",
        healthy: true,
      },
    ],
    [],
  );
  const applied = await weft(["apply", "-f", MESH], env);
  t.is(applied.code, 0, applied.stderr);
  t.regex(applied.stdout, /^route\.weft\.dev\/back created$/m);
  t.is(
    applied.stderr,
    [
      'Warning: route.weft.dev/back: spec.rules[1].mirror: {version=v2} matches no endpoint of service "back" now; nothing is copied until a workload with those labels starts',
      'Warning: route.weft.dev/back: spec.rules[2].split[1]: {version=v2} matches no endpoint of service "back" now; its 10% goes to the other subsets until a workload with those labels starts',
      "",
    ].join("\n"),
  );
});

test("get -o yaml, edit and apply again; a stale version is refused; history shows both", async (t) => {
  const { env } = await setup(t);
  t.is((await weft(["apply", "-f", MESH], env)).code, 0);
  // get -o yaml, edit, apply: the version in the document guards against lost updates.
  const yaml = await weft(["get", "route", "back", "-o", "yaml"], env);
  t.regex(yaml.stdout, /^kind: Route$/m);
  const edited = yaml.stdout.replace("weight: 90", "weight: 75");
  const changed = await weft(["apply", "-f", "-"], env, edited);
  t.is(changed.stdout, "route.weft.dev/back configured\n", changed.stderr);
  const stale = await weft(["apply", "-f", "-"], env, edited.replace("weight: 75", "weight: 60"));
  t.is(stale.code, 1);
  t.regex(stale.stderr, /changed by someone else/);

  const history = await weft(["history", "route", "back"], env);
  t.regex(history.stdout, /^2\s+created\s/m);
  t.regex(history.stdout, /^5\s+configured\s.*version=v1:75/m);
});

test("get all lists every kind, as kubectl's; its YAML restores the mesh config on another control plane", async (t) => {
  const { env } = await setup(t);
  const none = await weft(["get", "all"], env);
  t.deepEqual([none.code, none.stdout], [0, ""]);
  t.is(none.stderr, "No services, routes, resiliencepolicies, telemetries, authorizationpolicies found.\n");
  t.is((await weft(["apply", "-f", MESH], env)).code, 0);

  const all = await weft(["get", "all"], env);
  t.is(all.code, 0, all.stderr);
  const tables = all.stdout.trimEnd().split("\n\n");
  t.is(tables.length, 4, all.stdout);
  t.regex(tables[0] ?? "", /^NAME\s+PORTS\s.*\nservice\.weft\.dev\/back\s+8080\/http\s/);
  t.regex(tables[1] ?? "", /^NAME\s+SERVICE\s+RULES\s.*\nroute\.weft\.dev\/back\s+back\s/);
  t.regex(tables[3] ?? "", /\ntelemetry\.weft\.dev\/back\s/);
  // A list of kinds, in the order given; a name needs exactly one kind.
  const two = await weft(["get", "tel,rt"], env);
  t.regex(two.stdout, /^NAME.*\ntelemetry\.weft\.dev\/back\s[\s\S]*\n\nNAME.*\nroute\.weft\.dev\/back\s/);
  const named = await weft(["get", "rt,svc", "back"], env);
  t.is(named.code, 2);
  t.regex(named.stderr, /a name goes with one kind: 'weft get routes back'/);
  t.regex((await weft(["get", "routes,nope"], env)).stderr, /unknown kind "nope"/);

  // The YAML of everything, applied to an empty control plane, makes the same objects.
  const yaml = await weft(["get", "all", "-o", "yaml"], env);
  t.is(yaml.code, 0, yaml.stderr);
  const json = JSON.parse((await weft(["get", "all", "-o", "json"], env)).stdout) as Array<{ kind: string }>;
  t.deepEqual(
    json.map((o) => o.kind),
    ["Service", "Route", "ResiliencePolicy", "Telemetry"],
  );
  // Each document keeps its version, which guards edits against lost updates: on another control
  // plane it is refused until the version lines go, as the help says.
  const other = await setup(t);
  const guarded = await weft(["apply", "-f", "-"], other.env, yaml.stdout);
  t.is(guarded.code, 1);
  t.regex(guarded.stderr, /has version 1 in your document but no longer exists; remove metadata.version/);
  t.is((await weft(["get", "all", "-o", "json"], other.env)).stdout, "[]\n", "nothing applied");
  const unversioned = yaml.stdout.replace(/^ {2}version: \d+\n/gm, "");
  const restored = await weft(["apply", "-f", "-"], other.env, unversioned);
  t.is(restored.code, 0, restored.stderr);
  const specs = async (e: Record<string, string>) =>
    (
      JSON.parse((await weft(["get", "all", "-o", "json"], e)).stdout) as Array<{
        kind: string;
        spec: unknown;
      }>
    ).map((o) => [o.kind, o.spec]);
  t.deepEqual(await specs(other.env), await specs(env));
});

test("delete by kind and name, and delete -f", async (t) => {
  const { cp, env } = await setup(t);
  t.is((await weft(["apply", "-f", MESH], env)).code, 0);

  t.is((await weft(["delete", "route", "back"], env)).stdout, "route.weft.dev/back deleted\n");
  const gone = await weft(["get", "route", "back"], env);
  t.is(gone.code, 1);
  t.regex(gone.stderr, /not found; list them with 'weft get routes'/);
  const rest = await weft(["delete", "-f", MESH, "--ignore-not-found"], env);
  t.is(rest.code, 0, rest.stderr);
  t.is(cp.config.list("Service").length + cp.config.list("Telemetry").length, 0);
});

test("an invalid file is refused naming the file, the document and the field; nothing is stored", async (t) => {
  const { cp, dir, env } = await setup(t);
  const file = join(dir, "bad.yaml");
  writeFileSync(
    file,
    `apiVersion: weft.dev/v1
kind: Service
metadata: {name: ratings}
spec: {ports: [{port: 9080, protocol: http}]}
---
apiVersion: weft.dev/v1
kind: Route
metadata: {name: ratings}
spec:
  service: ratings
  rules:
    - split:
        - {labels: {version: v1}, weight: 90}
        - {labels: {version: v2}, weight: 100001}
`,
  );
  const bad = await weft(["apply", "-f", file], env);
  t.is(bad.code, 1);
  t.is(
    bad.stderr.trim(),
    `weft apply: ${file}: document 2 (Route "ratings"): spec.rules[0].split[1].weight must be an integer from 0 to 100000`,
  );
  t.is(cp.config.list("Service").length, 0, "the valid Service before it was not stored either");

  writeFileSync(file, "kind: Service\nmetadata: {name: x\n");
  const syntax = await weft(["apply", "-f", file], env);
  t.is(syntax.code, 1);
  t.regex(syntax.stderr, new RegExp(`${file}: malformed YAML at line \\d+, column \\d+`));

  const kind = await weft(["get", "gateways"], env);
  t.is(kind.code, 1);
  t.regex(kind.stderr, /unknown kind "gateways"; use one of service\|services\|svc, route/);
});

test("the CLI sends the token; without it a change is refused", async (t) => {
  const { env } = await setup(t);
  const denied = await weft(["apply", "-f", MESH], { ...env, WEFT_TOKEN: "" });
  t.is(denied.code, 1);
  t.regex(denied.stderr, /401|token/);
  const flag = await weft(["apply", "-f", MESH, "--token", "s3cret"], { ...env, WEFT_TOKEN: "" });
  t.is(flag.code, 0, flag.stderr);
});

test("weft kv puts, gets and deletes Consul KV keys with the token; a write without it is refused", async (t) => {
  const { env } = await setup(t);
  const put = await weft(["kv", "put", "app/config/port", "8080"], env);
  t.is(put.code, 0, put.stderr);
  t.is(put.stdout, "Success! Data written to: app/config/port\n");
  t.is((await weft(["kv", "put", "app/motd", "-"], env, "hello\nworld")).code, 0);
  t.is((await weft(["kv", "get", "app/config/port"], env)).stdout, "8080\n");
  t.is(
    (await weft(["kv", "get", "--recurse", "app/"], env)).stdout,
    "app/config/port:8080\napp/motd:hello\nworld\n",
  );
  const cas = await weft(["kv", "put", "--cas", "--modify-index", "0", "app/config/port", "9090"], env);
  t.is(cas.code, 1, "it exists: cas 0 writes only a new key");
  t.regex(cas.stderr, /the modify index did not match/);
  const denied = await weft(["kv", "put", "app/x", "1"], { ...env, WEFT_TOKEN: "wrong" });
  t.is(denied.code, 1);
  t.regex(denied.stderr, /answered 40[13]/);
  t.is((await weft(["kv", "delete", "--recurse", "app/"], env)).code, 0);
  const gone = await weft(["kv", "get", "app/config/port"], env);
  t.is(gone.code, 1);
  t.is(gone.stderr, "Error! No key exists at: app/config/port\n");
});
