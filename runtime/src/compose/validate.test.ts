import { join } from "node:path";
import test from "ava";
import { loadManifest, parseManifest } from "./validate";

const parse = (text: string, project?: string) =>
  parseManifest(text, { file: "weft.yaml", dir: "/srv/shop", project });

function fails(t: import("ava").ExecutionContext, text: string, message: RegExp) {
  const err = t.throws(() => parse(text));
  t.is((err as { code?: string }).code, "INVALID_MANIFEST");
  t.regex(err.message, message);
}

test("a full service is read with defaults applied", (t) => {
  const m = parse(`
name: shop
services:
  web:
    image: hello-mesh
    command: httpd -f -p "8080"
    environment: {MODE: prod, PORT: 8080, EMPTY: null}
    replicas: 2
    ports: ["8080/http", 9090]
    publish: ["127.0.0.1:0:8080"]
    labels: {version: v1}
    resources: {memory: 64m, cpus: 0.5, pids: 100}
    volumes: ["./www:/www:ro", "data:/data"]
    healthcheck: {test: {http: "8080/healthz"}, interval: 5s, timeout: 2s, retries: 2, start_period: 1m}
    restart: on-failure:3
    depends_on: {db: {condition: service_healthy}}
    user: 1000
    read_only: true
    tmpfs: /run
  db:
    image: hello-mesh
    environment: [A=1]
    healthcheck: {test: ["CMD-SHELL", "true"]}
    sidecar: false
    service: database
volumes:
  data: {}
`);
  t.is(m.project, "shop");
  t.deepEqual(
    m.services.map((s) => s.name),
    ["db", "web"],
    "dependencies first",
  );
  const web = m.services[1]!;
  t.deepEqual(web.command, ["httpd", "-f", "-p", "8080"]);
  t.deepEqual(web.environment, ["MODE=prod", "PORT=8080", "EMPTY="]);
  t.deepEqual(web.ports, [
    { port: 8080, protocol: "http" },
    { port: 9090, protocol: "auto" },
  ]);
  t.is(web.memoryBytes, 64 * 1024 * 1024);
  t.deepEqual(web.volumes, ["/srv/shop/www:/www:ro", "shop_data:/data"]);
  t.deepEqual(web.healthcheck, {
    http: { port: 8080, path: "/healthz" },
    intervalMs: 5000,
    timeoutMs: 2000,
    retries: 2,
    startPeriodMs: 60_000,
  });
  t.deepEqual(web.restart, { name: "on-failure", maxRetries: 3 });
  t.is(web.user, "1000");
  t.deepEqual(web.tmpfs, ["/run"]);
  const db = m.services[0]!;
  t.deepEqual(db.healthcheck?.exec, ["/bin/sh", "-c", "true"]);
  t.is(db.healthcheck?.intervalMs, 30_000);
  t.is(db.service, "database");
  t.false(db.sidecar);
  t.is(db.replicas, 1);
});

test("the project comes from -p, then name:, then the directory", (t) => {
  t.is(parse("name: a\nservices: {w: {image: x}}", "b").project, "b");
  t.is(parse("services: {w: {image: x}}").project, "shop");
  t.regex(
    t.throws(() => parse("name: Bad Name\nservices: {w: {image: x}}")).message,
    /weft\.yaml:1: name .*lower-case/,
  );
});

test("an alias without its anchor, or aliases past the limit, are YAML errors naming the file", (t) => {
  fails(t, "services:\n  web:\n    image: *img\n", /^weft\.yaml: not valid YAML: Unresolved alias/);
  // A "billion laughs" file: each level refers to the one before ten times.
  let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (let i = 1; i < 8; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    bomb += `${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]\n`;
  }
  fails(t, `${bomb}services:\n  web: {image: x}\n`, /^weft\.yaml: not valid YAML: .*alias/i);
});

test("errors name the file, the line, the field path and what is allowed", (t) => {
  fails(
    t,
    "services:\n  web:\n    image: x\n    replicas: three\n",
    /^weft\.yaml:4: services\.web\.replicas must be a whole number 0-100, got "three"/,
  );
  fails(
    t,
    "services:\n  web:\n    image: x\n    restart: sometimes\n",
    /services\.web\.restart must be "no", "always", "unless-stopped" or "on-failure\[:N\]"/,
  );
  // Two replicas cannot both bind one host port: refused here, not when the second one starts.
  fails(
    t,
    "services:\n  web:\n    image: x\n    replicas: 2\n    publish: ['0:9090', '127.0.0.1:18080:8080']\n",
    /^weft\.yaml:5: services\.web\.publish\[1\] host port 18080 can be published by one container only, not by 2 replicas; publish "127\.0\.0\.1:0:8080" \(each gets a free port\) or keep replicas at 1/,
  );
  fails(
    t,
    "services:\n  web:\n    image: x\n    publish: ['8080']\n",
    /services\.web\.publish\[0\] "8080" must look like \[IP:\]HOSTPORT:PORT/,
  );
  fails(
    t,
    "services:\n  web:\n    image: x\n    ports: ['8080/smtp']\n",
    /services\.web\.ports\[0\] protocol "smtp" is not one of auto, http/,
  );
  fails(
    t,
    "services:\n  web:\n    image: x\n    resources: {memory: lots}\n",
    /services\.web\.resources\.memory must be a size like 64m/,
  );
  fails(
    t,
    "services:\n  web:\n    image: x\n    healthcheck: {test: ['CMD'], interval: 10}\n",
    /services\.web\.healthcheck\.interval must be a duration/,
  );
  fails(
    t,
    "services:\n  web:\n    image: x\n    healthcheck: {test: ['RUN', 'x']}\n",
    /services\.web\.healthcheck\.test must be one of/,
  );
  fails(t, "services:\n  web: {}\n", /services\.web\.image is required/);
  fails(t, "services: {}\n", /services is empty/);
  fails(
    t,
    "services:\n  web:\n    image: x\n    labels: {weft.project: y}\n",
    /labels\.weft\.project is reserved/,
  );
  fails(t, "services:\n  web: {image: x, volumes: ['data:/d']}\n", /volume "data", which is not declared/);
  fails(t, "services:\n  web:\n    image: [x\n", /^weft\.yaml:\d+:\d+: not valid YAML/);
});

test("unknown fields are errors, with a suggestion when close", (t) => {
  fails(
    t,
    "services:\n  web:\n    image: x\n    replica: 2\n",
    /^weft\.yaml:4: services\.web\.replica is not a known field \(did you mean "replicas"\?\); allowed: image, command/,
  );
  fails(t, "services:\n  web:\n    image: x\n    read-only: true\n", /did you mean "read_only"/);
  fails(
    t,
    "service:\n  web: {image: x}\n",
    /^weft\.yaml:1: service is not a known field \(did you mean "services"\?\)/,
  );
  fails(
    t,
    "services:\n  web:\n    image: x\n    frobnicate: 1\n",
    /services\.web\.frobnicate is not a known field; allowed:/,
  );
  fails(
    t,
    "services:\n  web:\n    image: x\n    resources: {memroy: 1g}\n",
    /resources\.memroy is not a known field \(did you mean "memory"\?\)/,
  );
});

test("depends_on must name services of the file, without cycles, and healthy needs a check", (t) => {
  fails(
    t,
    "services:\n  web: {image: x, depends_on: [db]}\n",
    /services\.web\.depends_on\[0\] names "db", which is not a service/,
  );
  fails(
    t,
    "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n",
    /forms a cycle \(a -> b -> a\)/,
  );
  fails(
    t,
    "services:\n  web: {image: x, depends_on: {db: {condition: service_healthy}}}\n  db: {image: x}\n",
    /services\.db has no healthcheck/,
  );
});

test("a service key that is not a mesh service name needs service:", (t) => {
  fails(t, "services:\n  My_Web: {image: x}\n", /"My_Web" is not a valid mesh service name.*set service:/);
  t.is(parse("services:\n  My_Web: {image: x, service: web}\n").services[0]!.service, "web");
});

test("tmpfs and capabilities are checked in the file", (t) => {
  fails(
    t,
    "services:\n  web: {image: x, tmpfs: ['/run:size=lots']}\n",
    /services\.web\.tmpfs\[0\] "\/run:size=lots"/,
  );
  fails(
    t,
    "services:\n  web: {image: x, cap_add: [NET_ADMN]}\n",
    /services\.web\.cap_add\[0\] "NET_ADMN" is not a capability/,
  );
  const web = parse(
    "services:\n  web: {image: x, tmpfs: /run, cap_drop: [ALL], cap_add: [net_bind_service]}\n",
  ).services[0]!;
  t.deepEqual([web.tmpfs, web.capDrop, web.capAdd], [["/run"], ["ALL"], ["net_bind_service"]]);
});

test("the shop example's manifest is valid, and its load generator waits for a healthy frontend", (t) => {
  // The README's first command brings it up; started with frontend instead, loadgen's first seconds
  // found no endpoint (frontend registers once healthy) and read as errors on the dashboard.
  const m = loadManifest(join(import.meta.dirname, "../../../examples/shop/weft.yaml"));
  t.is(m.project, "shop");
  const loadgen = m.services.find((s) => s.name === "loadgen");
  t.deepEqual(loadgen?.dependsOn, [{ service: "frontend", condition: "service_healthy" }]);
  t.truthy(
    m.services.find((s) => s.name === "frontend")?.healthcheck,
    "frontend has the check loadgen waits for",
  );
});
