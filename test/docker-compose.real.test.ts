// docker-compose (Debian's 1.29, the Python one) against a real mesh: its project network, its
// services finding each other by name through the sidecars, its one-off `run`, a recreate and
// `down -v`, as a user of Docker runs them with DOCKER_HOST pointing at weft's socket.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import anyTest, { type TestFn } from "ava";
import { importExampleImage, type Mesh, startMesh } from "./support/mesh";
import { hex, waitFor } from "./support/processes";

const COMPOSE = "/usr/bin/docker-compose";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const test = anyTest as TestFn<{ mesh: Mesh; compose: (args: string[]) => Promise<Result>; project: string }>;

// hello-mesh's two services as a compose file: front's CGI calls http://back:8080/ by name. back's
// image is built by compose (docker build through the daemon) on top of hello-mesh's.
const composeFile = (image: string, tier: string) => `version: "3.8"
services:
  back:
    build: { context: ./back, args: { BASE: ${image} } }
    command: ["httpd", "-f", "-p", "8080", "-h", "/www/back"]
    labels: { tier: "${tier}" }
    volumes: ["data:/data"]
  front:
    image: ${image}
    command: ["httpd", "-f", "-p", "8080", "-h", "/www/front"]
    ports: ["127.0.0.1::8080"]
    depends_on: [back]
volumes:
  data: {}
`;

test.before(async (t) => {
  const mesh = await startMesh();
  const project = `wc${hex(3)}`;
  const dir = join(mesh.dir, "compose");
  mkdirSync(dir);
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    DOCKER_HOST: `unix://${join(mesh.dir, "weft.sock")}`,
    COMPOSE_PROJECT_NAME: project,
  };
  const compose = (args: string[]) =>
    new Promise<Result>((resolve) => {
      const child = execFile(COMPOSE, args, { cwd: dir, env, timeout: 180_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });
  t.context = { mesh, compose, project };
  await importExampleImage(mesh, "hm-compose");
  writeFileSync(join(dir, "docker-compose.yml"), composeFile("hm-compose", "v1"));
  mkdirSync(join(dir, "back"));
  writeFileSync(
    join(dir, "back", "Dockerfile"),
    "ARG BASE\nFROM $BASE\nRUN echo built by compose > /www/back/built.txt\n",
  );
});

test.after.always(async (t) => {
  await t.context.compose?.(["down", "-v", "--timeout", "1"]);
  await t.context.mesh?.close();
});

test.serial(
  "up -d: its network, and front calls back by its compose name through both sidecars",
  async (t) => {
    const { compose, mesh, project } = t.context;
    const up = await compose(["up", "-d"]);
    t.is(up.code, 0, up.stderr);
    t.regex(up.stderr, new RegExp(`Creating network "${project}_default"`));
    t.regex(up.stdout + up.stderr, /Successfully tagged \S+_back:latest/, "compose built back's image");
    const ps = await compose(["ps"]);
    // Each container once: compose tells its services from one-off runs by a second label, and
    // both labels must match (they were alternatives, which listed every container twice).
    t.is(ps.stdout.match(new RegExp(`${project}_front_1`, "g"))?.length, 1, ps.stdout);
    t.is(ps.stdout.match(new RegExp(`${project}_back_1`, "g"))?.length, 1, ps.stdout);

    const port = (await compose(["port", "front", "8080"])).stdout.trim().split(":")[1];
    t.truthy(port, "front's published port");
    // back is found by its compose service name (the sidecar's DNS) on the port its image exposes.
    const body = await waitFor("front's call to back", async () => {
      const res = await fetch(`http://127.0.0.1:${port}/cgi-bin/call`).catch(() => undefined);
      const text = (await res?.text()) ?? "";
      return text.includes("hello from back") ? text : undefined;
    });
    t.regex(body, /Via: .*weft/i, "through the sidecars");
    const services = JSON.parse(await mesh.weftOk(["services", "--json"])) as Array<{ name: string }>;
    t.true(
      services.some((s) => s.name === "back"),
      JSON.stringify(services),
    );
  },
);

test.serial("run --rm: a one-off container linked to the service, with its exit code", async (t) => {
  const { compose } = t.context;
  const run = await compose([
    "run",
    "--rm",
    "-T",
    "front",
    "sh",
    "-c",
    "wget -q -O - http://back:8080/; wget -q -O - http://back:8080/built.txt; exit 3",
  ]);
  t.is(run.code, 3, run.stderr);
  t.regex(run.stdout, /hello from back/);
  t.regex(run.stdout, /built by compose/, "back runs the image compose built");
});

test.serial("a changed service is recreated with its volume; down -v leaves nothing", async (t) => {
  const { compose, mesh, project } = t.context;
  writeFileSync(join(mesh.dir, "compose", "docker-compose.yml"), composeFile("hm-compose", "v2"));
  // httpd as pid 1 ignores SIGTERM: 1 s, not 10, before the kill.
  const up = await compose(["up", "-d", "--timeout", "1"]);
  t.is(up.code, 0, up.stderr);
  t.regex(up.stderr, new RegExp(`Recreating ${project}_back_1`));
  const ps = JSON.parse(await mesh.weftOk(["ps", "--json"])) as Array<{
    name: string;
    labels: Record<string, string>;
  }>;
  t.is(ps.find((c) => c.name === `${project}_back_1`)?.labels.tier, "v2");

  const down = await compose(["down", "-v", "--timeout", "1"]);
  t.is(down.code, 0, down.stderr);
  t.regex(down.stderr, new RegExp(`Removing network ${project}_default`));
  t.regex(down.stderr, new RegExp(`Removing volume ${project}_data`));
  t.deepEqual(JSON.parse(await mesh.weftOk(["ps", "-a", "--json"])), []);
  const volumes = await mesh.weftOk(["volume", "ls", "-q"]);
  t.notRegex(volumes, new RegExp(project));
});
