// `weft image build` against a real daemon: an OCI layout build (the default) that keeps its config,
// and a Node program image (the host's node with its shared libraries, plus a script) built offline
// as a rootfs tarball, run in runc without a sidecar, its output read back with `weft logs`.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { type Mesh, startMesh } from "./support/mesh";
import { waitFor } from "./support/processes";

let mesh: Mesh;

test.before(async () => {
  mesh = await startMesh();
});

test.after.always(async () => {
  await mesh?.close();
});

test("a Node program built from the host's node binary runs in a container and logs", async (t) => {
  const project = join(mesh.dir, "node-app");
  mkdirSync(join(project, "app"), { recursive: true });
  writeFileSync(
    join(project, "app", "hello.js"),
    'console.log("hello from node " + process.version + " in " + process.cwd());\n',
  );
  writeFileSync(
    join(project, "image.yaml"),
    [
      "apiVersion: weft.dev/v1",
      "kind: ImageBuild",
      "name: test/node-hello",
      "copy: [{src: app, dest: /app}]",
      `binaries: [{path: ${JSON.stringify(process.execPath)}}]`,
      'dirs: [{path: /tmp, mode: "1777"}]',
      `cmd: [${JSON.stringify(process.execPath)}, /app/hello.js]`,
      "",
    ].join("\n"),
  );
  // A plain rootfs tarball (files only): the command is given to run below.
  const build = ["image", "build", "-f", join(project, "image.yaml"), "--format", "rootfs"];
  const id = (await mesh.weftOk(build, 120_000)).trim();
  t.regex(id, /^(sha256:)?[0-9a-f]{64}$/);
  const images = JSON.parse(await mesh.weftOk(["image", "ls", "--json"])) as Array<{ name: string }>;
  t.true(
    images.some((i) => i.name.startsWith("test/node-hello")),
    JSON.stringify(images),
  );

  await mesh.weftOk(
    ["run", "-d", "--name", "hello", "--no-sidecar", "test/node-hello"].concat([
      process.execPath,
      "/app/hello.js",
    ]),
    60_000,
  );
  const logs = await waitFor(
    "the node program's output in weft logs",
    async () => {
      const out = await mesh.weftOk(["logs", "hello"]);
      return out.includes("hello from node") ? out : undefined;
    },
    60_000,
  );
  t.true(logs.includes(`hello from node ${process.version} in /`), logs);
});

test("an OCI layout build (the default) keeps the spec's config: the image runs its own cmd", async (t) => {
  const spec = join(process.cwd(), "examples", "hello-mesh", "image.yaml");
  await mesh.weftOk(["image", "build", "-f", spec, "--tag", "test/hello-oci"], 120_000);
  const images = JSON.parse(await mesh.weftOk(["image", "ls", "--json"])) as Array<{
    name: string;
    config: { env: string[]; cmd: string[]; exposedPorts: string[]; labels: Record<string, string> };
  }>;
  const image = images.find((i) => i.name.startsWith("test/hello-oci"));
  t.like(image?.config, {
    env: ["PATH=/bin"],
    cmd: ["httpd", "-f", "-p", "8080", "-h", "/www/back"],
    exposedPorts: ["8080/tcp"],
    labels: { app: "hello-mesh" },
  });
  // No command given: httpd from the image's cmd serves /www/back.
  await mesh.weftOk(["run", "-d", "--name", "oci-back", "--no-sidecar", "test/hello-oci"], 60_000);
  const page = await waitFor("httpd from the image's cmd", async () => {
    const r = await mesh.weft([
      "exec",
      "oci-back",
      "timeout",
      "10",
      "wget",
      "-q",
      "-O",
      "-",
      "http://127.0.0.1:8080/",
    ]);
    return r.code === 0 ? r.stdout : undefined;
  });
  t.regex(page, /back/);
});
