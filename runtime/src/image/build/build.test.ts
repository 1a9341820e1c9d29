import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import test from "ava";
import { BuildError, buildImage, parseBuildSpec, REF_NAME_ANNOTATION, sharedLibraries } from "./index";

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "wt-build-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A spec folder with a small web root, and the spec's text. */
function project(dir: string): { specDir: string; spec: string } {
  const specDir = join(dir, "project");
  mkdirSync(join(specDir, "www", "cgi-bin"), { recursive: true });
  writeFileSync(join(specDir, "www", "index.html"), "hello\n");
  writeFileSync(join(specDir, "www", "cgi-bin", "call"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
  const spec = `apiVersion: weft.dev/v1
kind: ImageBuild
name: demo/app:1
copy: [{src: www, dest: /www}]
binaries: [{path: /bin/busybox, links: [sh, wget]}]
files: [{dest: /etc/passwd, content: "root:x:0:0:root:/root:/bin/sh\\n"}]
dirs: [{path: /tmp, mode: "1777"}]
env: {PATH: /bin}
cmd: [httpd, -f]
expose: ["8080"]
labels: {app: demo}
`;
  return { specDir, spec };
}

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));

/** `tar -tv` lines as "MODE OWNER DATE TIME NAME[ -> TARGET]", for asserting modes and owners. */
function listing(tar: string, gzip = false): string[] {
  const out = execFileSync("tar", [gzip ? "-tzvf" : "-tvf", tar, "--numeric-owner", "--full-time"], {
    encoding: "utf8",
    env: { ...process.env, TZ: "UTC" },
  });
  return out
    .trim()
    .split("\n")
    .map((l) => {
      const f = l.split(/\s+/);
      return [f[0], f[1], f[3], f[4], ...f.slice(5)].join(" ");
    });
}

test("a scratch build writes an OCI layout whose digests verify and whose layer holds the spec's files", async (t) => {
  const dir = tempDir(t);
  const { specDir, spec } = project(dir);
  const out = join(dir, "image.oci");
  const result = await buildImage(parseBuildSpec(spec, "image.yaml"), { specDir, out, format: "oci" });

  t.deepEqual(readJson(join(out, "oci-layout")), { imageLayoutVersion: "1.0.0" });
  const index = readJson(join(out, "index.json"));
  t.is(index.manifests.length, 1);
  const entry = index.manifests[0];
  t.is(entry.annotations[REF_NAME_ANNOTATION], "demo/app:1");
  t.is(entry.digest, result.manifestDigest);
  const blob = (digest: string) => readFileSync(join(out, "blobs", "sha256", digest.replace("sha256:", "")));
  // Every descriptor's digest and size match the bytes it points to.
  const manifestBytes = blob(entry.digest);
  t.is(sha256(manifestBytes), entry.digest);
  t.is(manifestBytes.length, entry.size);
  const manifest = JSON.parse(manifestBytes.toString());
  t.is(manifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
  const configBytes = blob(manifest.config.digest);
  t.is(sha256(configBytes), manifest.config.digest);
  t.is(configBytes.length, manifest.config.size);
  t.is(manifest.layers.length, 1);
  const layer = manifest.layers[0];
  t.is(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
  const layerBytes = blob(layer.digest);
  t.is(sha256(layerBytes), layer.digest);
  t.is(layerBytes.length, layer.size);
  const config = JSON.parse(configBytes.toString());
  t.deepEqual(config.rootfs, { type: "layers", diff_ids: [sha256(gunzipSync(layerBytes))] });
  t.is(config.os, "linux");
  t.like(config.config, {
    Env: ["PATH=/bin"],
    Cmd: ["httpd", "-f"],
    Entrypoint: [],
    WorkingDir: "/",
    User: "0",
    ExposedPorts: { "8080/tcp": {} },
    Labels: { app: "demo" },
  });
  t.deepEqual(readdirSync(join(out, "blobs", "sha256")).length, 3, "no stray blobs");

  const lines = listing(join(out, "blobs", "sha256", layer.digest.replace("sha256:", "")), true);
  const epoch = "1970-01-01 00:00:00";
  t.true(
    lines.every((l) => l.includes(` 0/0 ${epoch} `)),
    lines.join("\n"),
  );
  for (const expected of [
    `-rwxr-xr-x 0/0 ${epoch} bin/busybox`,
    `lrwxrwxrwx 0/0 ${epoch} bin/sh -> busybox`,
    `lrwxrwxrwx 0/0 ${epoch} bin/wget -> busybox`,
    `-rw-r--r-- 0/0 ${epoch} etc/passwd`,
    `drwxrwxrwt 0/0 ${epoch} tmp/`,
    `-rw-r--r-- 0/0 ${epoch} www/index.html`,
    `-rwxr-xr-x 0/0 ${epoch} www/cgi-bin/call`,
  ]) {
    t.true(lines.includes(expected), `${expected} in\n${lines.join("\n")}`);
  }
  const names = lines.map((l) => l.split(" ")[4]);
  t.deepEqual(names, [...names].sort(), "entries are sorted");
  t.false(
    names.some((n) => n?.startsWith("lib")),
    "a static binary brings no libraries",
  );
});

test("two builds of the same inputs give the same manifest digest, whatever the source mtimes", async (t) => {
  const dir = tempDir(t);
  const { specDir, spec } = project(dir);
  const parsed = parseBuildSpec(spec, "image.yaml");
  const a = await buildImage(parsed, { specDir, out: join(dir, "a"), format: "oci" });
  utimesSync(join(specDir, "www", "index.html"), new Date(), new Date("2001-01-01"));
  const b = await buildImage(parsed, { specDir, out: join(dir, "b"), format: "oci" });
  t.truthy(a.manifestDigest);
  t.is(a.manifestDigest, b.manifestDigest);
  const ra = await buildImage(parsed, { specDir, out: join(dir, "a.tar"), format: "rootfs" });
  const rb = await buildImage(parsed, { specDir, out: join(dir, "b.tar"), format: "rootfs" });
  t.deepEqual(readFileSync(ra.out), readFileSync(rb.out));
  // A different file gives a different image.
  writeFileSync(join(specDir, "www", "index.html"), "changed\n");
  const c = await buildImage(parsed, { specDir, out: join(dir, "c"), format: "oci" });
  t.not(c.manifestDigest, a.manifestDigest);
});

test("a dynamic binary brings every library ldd resolves and the dynamic loader", async (t) => {
  const dir = tempDir(t);
  const libs = await sharedLibraries("/bin/ls");
  t.true(
    libs.some((l) => /\/ld-linux[^/]*\.so/.test(l)),
    `loader in ${libs.join(", ")}`,
  );
  t.true(libs.some((l) => /\/libc\.so/.test(l)));
  t.deepEqual(await sharedLibraries("/bin/busybox"), [], "busybox-static needs none");

  const spec = parseBuildSpec(
    "apiVersion: weft.dev/v1\nkind: ImageBuild\nname: ls\nbinaries: [{path: /bin/ls, dest: /usr/bin/ls}]\n",
    "ls.yaml",
  );
  const out = join(dir, "ls.tar");
  await buildImage(spec, { specDir: dir, out, format: "rootfs" });
  const names = listing(out).map((l) => l.split(" ")[4]);
  t.true(names.includes("usr/bin/ls"));
  for (const lib of libs) t.true(names.includes(lib.slice(1)), `${lib} in ${names.join(", ")}`);

  // And the copied tree works on its own: chroot runs ls with only what the build put there.
  const root = join(dir, "root");
  mkdirSync(root);
  execFileSync("tar", ["-C", root, "-xf", out]);
  t.regex(execFileSync("chroot", [root, "/usr/bin/ls", "/usr/bin"], { encoding: "utf8" }), /^ls$/m);
});

test("copy sources that leave the spec's folder are refused and nothing is written", async (t) => {
  const dir = tempDir(t);
  const { specDir } = project(dir);
  writeFileSync(join(dir, "secret"), "x");
  const head = "apiVersion: weft.dev/v1\nkind: ImageBuild\nname: app\n";
  const parseErr = t.throws(
    () => parseBuildSpec(`${head}copy: [{src: ../secret, dest: /x}]\n`, "image.yaml"),
    {
      instanceOf: BuildError,
    },
  );
  t.is(parseErr?.code, "UNSAFE_PATH");

  // A symlink inside the folder that leads out is caught when the build resolves it.
  symlinkSync(join(dir, "secret"), join(specDir, "sneaky"));
  const out = join(dir, "out.oci");
  const spec = parseBuildSpec(`${head}copy: [{src: sneaky, dest: /x}]\n`, "image.yaml");
  const err = await t.throwsAsync(buildImage(spec, { specDir, out, format: "oci" }), {
    instanceOf: BuildError,
  });
  t.is(err?.code, "UNSAFE_PATH");
  t.regex(err?.message ?? "", /outside the spec's folder/);
  t.false(existsSync(out));
  t.deepEqual(readdirSync(dir).sort(), ["project", "secret"], "no partial output next to out");

  // A link copied into the image cannot redirect a later write onto the host.
  symlinkSync(dir, join(specDir, "www", "escape"));
  const through = parseBuildSpec(
    `${head}copy: [{src: www, dest: /www}]\nfiles: [{dest: /www/escape/planted, content: x}]\n`,
    "image.yaml",
  );
  const err2 = await t.throwsAsync(buildImage(through, { specDir, out, format: "rootfs" }), {
    instanceOf: BuildError,
  });
  t.is(err2?.code, "UNSAFE_PATH");
  t.false(existsSync(join(dir, "planted")));
});

test("from a base image: its files and config are kept, the spec's are added on top", async (t) => {
  const dir = tempDir(t);
  const base = join(dir, "base");
  mkdirSync(join(base, "etc"), { recursive: true });
  writeFileSync(join(base, "etc", "os-release"), "base\n");
  writeFileSync(join(base, "etc", "motd"), "old\n");
  const spec = parseBuildSpec(
    "apiVersion: weft.dev/v1\nkind: ImageBuild\nname: child\nfrom: base\nfiles: [{dest: /etc/motd, content: new}]\nenv: {MODE: child}\nentrypoint: [/bin/app]\n",
    "child.yaml",
  );
  const baseConfig = {
    env: ["PATH=/bin", "MODE=base"],
    cmd: ["/bin/sh"],
    entrypoint: [],
    workdir: "/srv",
    user: "1000",
  };
  const out = join(dir, "child.tar");
  const result = await buildImage(spec, {
    specDir: dir,
    out,
    format: "rootfs",
    base: { layers: [base], config: baseConfig },
  });
  t.deepEqual(result.config, {
    env: ["PATH=/bin", "MODE=child"],
    cmd: [],
    entrypoint: ["/bin/app"],
    workdir: "/srv",
    user: "1000",
    exposedPorts: [],
    labels: {},
  });
  const root = join(dir, "root");
  mkdirSync(root);
  execFileSync("tar", ["-C", root, "-xf", out]);
  t.is(readFileSync(join(root, "etc", "os-release"), "utf8"), "base\n");
  t.is(readFileSync(join(root, "etc", "motd"), "utf8"), "new");

  const oci = join(dir, "child.oci");
  await buildImage(spec, {
    specDir: dir,
    out: oci,
    format: "oci",
    base: { layers: [base], config: baseConfig },
  });
  const manifest = readJson(
    join(oci, "blobs", "sha256", readJson(join(oci, "index.json")).manifests[0].digest.slice(7)),
  );
  t.is(manifest.layers.length, 2, "the base is its own layer under the spec's");
  await t.throwsAsync(buildImage(spec, { specDir: dir, out: join(dir, "x.tar"), format: "rootfs" }), {
    message: /needs that image's rootfs/,
  });
});

test("a layered base is read merged: a file its top layer deletes (overlay whiteout) is not in the image", async (t) => {
  const dir = tempDir(t);
  const [lower, upper] = [join(dir, "lower"), join(dir, "upper")];
  mkdirSync(join(lower, "etc"), { recursive: true });
  mkdirSync(join(upper, "etc"), { recursive: true });
  writeFileSync(join(lower, "etc", "gone"), "x");
  writeFileSync(join(lower, "etc", "kept"), "x");
  writeFileSync(join(upper, "etc", "added"), "x");
  execFileSync("mknod", [join(upper, "etc", "gone"), "c", "0", "0"]);
  const spec = parseBuildSpec(
    "apiVersion: weft.dev/v1\nkind: ImageBuild\nname: child\nfrom: base\n",
    "c.yaml",
  );
  const config = { env: [], cmd: [], entrypoint: [], workdir: "/", user: "0" };
  const out = join(dir, "child.tar");
  await buildImage(spec, { specDir: dir, out, format: "rootfs", base: { layers: [upper, lower], config } });
  const names = listing(out).map((l) => l.split(" ")[4]);
  t.deepEqual(
    names.filter((n) => n?.startsWith("etc/")),
    ["etc/", "etc/added", "etc/kept"],
  );
});
