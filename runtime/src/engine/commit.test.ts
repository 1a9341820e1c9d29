// What weft commit keeps of a container's config: Docker's choices, and not the runtime's own.
import test from "ava";
import { DEFAULT_IMAGE_CONFIG } from "../image/record";
import { runConfig } from "./commit";
import type { ContainerState } from "./types";

const image = {
  ...DEFAULT_IMAGE_CONFIG,
  entrypoint: ["/entry.sh"],
  cmd: ["serve"],
  env: ["PATH=/bin", "MODE=image"],
  user: "app",
  exposedPorts: ["9000/tcp"],
  labels: { "org.opencontainers.image.title": "shop" },
};

function state(o: Partial<ContainerState>): ContainerState {
  return {
    cmd: ["/entry.sh", "serve", "--verbose"],
    env: ["PATH=/bin", "MODE=image", "HOSTNAME=abc123", "MODE=dev"],
    uid: 1000,
    gid: 1000,
    ports: [{ port: 8080, protocol: "http" }],
    labels: { team: "shop", "weft.project": "shop", "weft.service": "catalog" },
    ...o,
  } as ContainerState;
}

test("the command splits back into the image's entrypoint and the rest; env without HOSTNAME, last value wins", (t) => {
  const c = runConfig(state({}), image);
  t.deepEqual(c.entrypoint, ["/entry.sh"]);
  t.deepEqual(c.cmd, ["serve", "--verbose"]);
  t.deepEqual(c.env, ["PATH=/bin", "MODE=dev"]);
  t.is(c.user, "1000:1000");
  t.deepEqual(c.exposedPorts, ["9000/tcp", "8080/tcp"]);
  t.deepEqual(
    c.labels,
    { "org.opencontainers.image.title": "shop", team: "shop" },
    "weft up's project and service labels stay with the container",
  );
});

test("a command that replaced the entrypoint keeps none; root stays the image's way of saying it", (t) => {
  const replaced = runConfig(state({ cmd: ["sh", "-c", "sleep 1"] }), image);
  t.deepEqual([replaced.entrypoint, replaced.cmd], [[], ["sh", "-c", "sleep 1"]]);
  t.is(runConfig(state({ uid: 0, gid: 0 }), { ...image, user: "" }).user, "", "root, as the image had it");
  t.is(runConfig(state({ uid: 0, gid: 0 }), image).user, "0:0", "root over an image that runs as app");
});
