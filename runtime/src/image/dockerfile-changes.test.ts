// --change: Dockerfile instructions on an image config, as docker commit and import take them.
import test from "ava";
import { applyChanges } from "./dockerfile-changes";
import { DEFAULT_IMAGE_CONFIG } from "./record";

const base = { ...DEFAULT_IMAGE_CONFIG, entrypoint: ["/entry"], cmd: ["serve"], env: ["PATH=/bin", "A=1"] };

test("CMD and ENTRYPOINT in exec and shell form; ENTRYPOINT drops the base's CMD as a Dockerfile does", (t) => {
  t.deepEqual(applyChanges(base, ['CMD ["httpd", "-f"]']).cmd, ["httpd", "-f"]);
  t.deepEqual(applyChanges(base, ["cmd echo $HOME"]).cmd, ["/bin/sh", "-c", "echo $HOME"]);
  const ep = applyChanges(base, ['ENTRYPOINT ["/new"]']);
  t.deepEqual([ep.entrypoint, ep.cmd], [["/new"], []]);
  const both = applyChanges(base, ['ENTRYPOINT ["/new"]', 'CMD ["-v"]']);
  t.deepEqual([both.entrypoint, both.cmd], [["/new"], ["-v"]]);
  t.deepEqual(base.cmd, ["serve"], "the base config is not changed");
});

test("ENV, LABEL, EXPOSE, USER and WORKDIR", (t) => {
  const c = applyChanges(base, [
    "ENV A=2 B=\"two words\" C='x y'",
    "ENV LEGACY some value",
    'LABEL version=2 "maintainer"=ops',
    "EXPOSE 8080 53/udp 8080/tcp",
    "USER app",
    "WORKDIR /srv",
  ]);
  t.deepEqual(c.env, ["PATH=/bin", "A=2", "B=two words", "C=x y", "LEGACY=some value"]);
  t.deepEqual(c.labels, { version: "2", maintainer: "ops" });
  t.deepEqual(c.exposedPorts, ["8080/tcp", "53/udp"]);
  t.is(c.user, "app");
  t.is(c.workdir, "/srv");
});

test("instructions weft does not take, and malformed ones, are refused naming the change", (t) => {
  const refused: Array<[string, RegExp]> = [
    ["RUN apt-get update", /weft takes CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR; RUN is not one/],
    ["CMD [httpd", /exec form must be a JSON list of strings/],
    ['CMD ["a", 1]', /exec form must be a JSON list of strings/],
    ["EXPOSE http", /"http" is not a port/],
    ["EXPOSE 70000", /"70000" is not a port/],
    ["WORKDIR srv", /WORKDIR must be an absolute path/],
    ["ENV ONLY", /ENV ONLY needs a value/],
    ["LABEL =x", /expected KEY=VALUE/],
    ["USER", /USER needs an argument/],
  ];
  for (const [change, message] of refused) {
    const err = t.throws(() => applyChanges(base, [change]), { message }, change);
    t.is((err as { code?: string }).code, "BAD_CHANGE", change);
  }
});
