import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { Engine } from "../engine/engine";
import { FakeSystem } from "../engine/fake-parts";
import type { ImageInfo } from "../engine/parts";
import { EngineClient } from "./client";
import { startApiServer } from "./server";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

async function failure(p: Promise<unknown>): Promise<{ status?: number; message: string }> {
  return p.then(
    () => ({ message: "no error" }),
    (err: Error & { status?: number }) => ({ status: err.status, message: err.message }),
  );
}

test("GET /images/{name}/json and DELETE /images/{name}: 409 while a container uses it, 204 after", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-api-img-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const engine = new Engine(new FakeSystem().parts(join(dir, "state")));
  const socketPath = join(dir, "weft.sock");
  const server = await startApiServer(engine, socketPath, quiet);
  t.teardown(() => server.close());
  const client = new EngineClient(socketPath);

  await client.call("POST", "/images/import?name=shop%2Fweb%3A1", { path: "/x.tar" });
  const image = await client.json<ImageInfo>("GET", `/images/${encodeURIComponent("shop/web:1")}/json`);
  t.is(image.name, "shop/web:1");
  t.deepEqual(image.layers, ["/nonexistent/rootfs"]);
  const ghost = await failure(client.call("GET", "/images/ghost/json"));
  t.is(ghost.status, 404);
  t.regex(ghost.message, /image "ghost" not found/);

  // A second name for the same content is only untagged.
  t.is((await client.call("DELETE", `/images/${encodeURIComponent("shop/web:1")}`)).status, 204);

  await client.call("POST", "/containers/create?name=web", { image: "busybox" });
  const inUse = await failure(client.call("DELETE", "/images/busybox"));
  t.is(inUse.status, 409);
  t.regex(inUse.message, /used by container\(s\) web/);
  await client.call("DELETE", "/containers/web?force=1");
  t.is((await client.call("DELETE", "/images/busybox")).status, 204);
  t.is((await failure(client.call("DELETE", "/images/busybox"))).status, 404);
});
