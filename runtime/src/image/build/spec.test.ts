import test from "ava";
import { BuildError, type BuildErrorCode, parseBuildSpec } from "./index";

const HEAD = "apiVersion: weft.dev/v1\nkind: ImageBuild\nname: app\n";

function specError(text: string): BuildError {
  try {
    parseBuildSpec(text, "dir/image.yaml");
  } catch (err) {
    if (err instanceof BuildError) return err;
    throw err;
  }
  throw new Error(`accepted:\n${text}`);
}

test("a full spec parses, with defaults and normalised paths and ports", (t) => {
  const spec = parseBuildSpec(
    `${HEAD}from: base/img:1
copy: [{src: ./www/, dest: /www/, mode: "0755"}]
binaries:
  - {path: /bin/busybox, links: [sh, /usr/bin/env], all-applets: true}
  - {path: /usr/bin/node, dest: /opt/node}
files: [{dest: /etc/passwd, content: "root:x:0:0::/:/bin/sh\\n"}]
dirs: [{path: /tmp, mode: "1777"}, {path: /data}]
env: {PATH: /bin, PORT: 8080}
cmd: [httpd, -f]
entrypoint: []
user: 0
workdir: /srv
expose: [8080, "53/udp"]
labels: {app: hello}
`,
    "image.yaml",
  );
  t.deepEqual(spec, {
    name: "app",
    from: "base/img:1",
    copy: [{ src: "www", dest: "/www", mode: 0o755 }],
    binaries: [
      { path: "/bin/busybox", dest: "/bin/busybox", links: ["sh", "/usr/bin/env"], allApplets: true },
      { path: "/usr/bin/node", dest: "/opt/node", links: [], allApplets: false },
    ],
    files: [{ dest: "/etc/passwd", content: "root:x:0:0::/:/bin/sh\n", mode: 0o644 }],
    dirs: [
      { path: "/tmp", mode: 0o1777 },
      { path: "/data", mode: 0o755 },
    ],
    env: { PATH: "/bin", PORT: "8080" },
    cmd: ["httpd", "-f"],
    entrypoint: [],
    user: "0",
    workdir: "/srv",
    expose: ["8080/tcp", "53/udp"],
    labels: { app: "hello" },
  });
  const minimal = parseBuildSpec(HEAD, "image.yaml");
  t.is(minimal.from, "scratch");
  t.is(minimal.cmd, undefined, "unset cmd inherits from the base");
});

test("every wrong field is named, with the file and what is allowed", (t) => {
  const cases: Array<[string, RegExp, BuildErrorCode?]> = [
    ["kind: ImageBuild\nname: app\n", /apiVersion must be "weft\.dev\/v1", got nothing/],
    ["apiVersion: weft.dev/v1\nkind: Service\nname: app\n", /kind must be "ImageBuild", got "Service"/],
    ["apiVersion: weft.dev/v1\nkind: ImageBuild\n", /name must be a non-empty string, got nothing/],
    ["apiVersion: weft.dev/v1\nkind: ImageBuild\nname: Hello World\n", /name must be lower-case letters/],
    [`${HEAD}from: "Not An Image"\n`, /from must be "scratch" or the name of an image/],
    [`${HEAD}volumes: [/data]\n`, /unknown field volumes; allowed here: apiVersion, kind, name/],
    [`${HEAD}copy: www\n`, /copy must be a list, got "www"/],
    [`${HEAD}copy: [{dest: /www}]\n`, /copy\[0\]\.src must be a non-empty string, got nothing/],
    [`${HEAD}copy: [{src: www, dest: www}]\n`, /copy\[0\]\.dest must be an absolute path, got "www"/],
    [`${HEAD}copy: [{src: www, dest: /a/../b}]\n`, /copy\[0\]\.dest must not contain "\.\."/],
    [`${HEAD}copy: [{src: www, dest: /www, mode: 0755}]\n`, /copy\[0\]\.mode must be a quoted octal mode/],
    [
      `${HEAD}copy: [{src: www, dest: /www, owner: root}]\n`,
      /unknown field copy\[0\]\.owner; allowed here: src, dest, mode/,
    ],
    [
      `${HEAD}copy: [{src: ../x, dest: /x}]\n`,
      /copy\[0\]\.src must be a path inside the spec's folder.*"\.\.\/x"/,
      "UNSAFE_PATH",
    ],
    [`${HEAD}copy: [{src: a/../../x, dest: /x}]\n`, /copy\[0\]\.src must be a path inside/, "UNSAFE_PATH"],
    [`${HEAD}copy: [{src: /etc, dest: /x}]\n`, /copy\[0\]\.src must be a path inside/, "UNSAFE_PATH"],
    [`${HEAD}binaries: [{path: busybox}]\n`, /binaries\[0\]\.path must be an absolute path/],
    [
      `${HEAD}binaries: [{path: /bin/busybox, links: [a/b]}]\n`,
      /binaries\[0\]\.links\[0\] must be a bare name/,
    ],
    [
      `${HEAD}binaries: [{path: /bin/busybox, all-applets: yes}]\n`,
      /binaries\[0\]\.all-applets must be true or false/,
    ],
    [`${HEAD}files: [{dest: /etc/x}]\n`, /files\[0\]\.content must be a non-empty string, got nothing/],
    [`${HEAD}dirs: [{path: /tmp, mode: "999"}]\n`, /dirs\[0\]\.mode must be a quoted octal mode/],
    [`${HEAD}env: [PATH=/bin]\n`, /env must be a mapping/],
    [`${HEAD}env: {PATH: {a: 1}}\n`, /env\.PATH must be a string, number or boolean/],
    [`${HEAD}cmd: httpd -f\n`, /cmd must be a list of strings, got "httpd -f"/],
    [`${HEAD}entrypoint: [1, 2]\n`, /entrypoint must be a list of strings/],
    [`${HEAD}user: "a b"\n`, /user must be "UID\[:GID\]" or a name/],
    [`${HEAD}workdir: srv\n`, /workdir must be an absolute path/],
    [`${HEAD}expose: [http]\n`, /expose\[0\] must be "PORT", "PORT\/tcp" or "PORT\/udp"/],
    [`${HEAD}expose: [70000]\n`, /expose\[0\] must be/],
    [`${HEAD}labels: {app: [x]}\n`, /labels\.app must be a string, number or boolean/],
    ["name: [unclosed\n", /not valid YAML/],
    ["- a list\n", /the document must be a mapping/],
  ];
  for (const [text, message, code = "BAD_SPEC"] of cases) {
    const err = specError(text);
    t.is(err.code, code, text);
    t.true(err.message.startsWith("dir/image.yaml: "), err.message);
    t.regex(err.message, message, text);
  }
});
