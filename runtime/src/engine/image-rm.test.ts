import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { Engine } from "./engine";
import { FakeSystem } from "./fake-parts";
import { validateRunSpec } from "./validate";

test("image rm is refused while a container uses the image, and allowed once it is removed", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-image-rm-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sys = new FakeSystem();
  const engine = new Engine(sys.parts(dir));
  const c = await engine.run(validateRunSpec({ image: "busybox", cmd: ["sleep", "300"], name: "user1" }));
  await engine.stop(c.id, 0);

  const err = await t.throwsAsync(engine.removeImage("busybox"));
  t.is((err as { code?: string }).code, "IMAGE_IN_USE");
  t.is((err as { status?: number }).status, 409);
  t.regex(err?.message ?? "", /used by container\(s\) user1; remove them first \('weft rm -f user1'\)/);
  t.true(
    engine.images().some((i) => i.name === "busybox"),
    "still there",
  );

  // Another name for the same content: removing one name only untags.
  await engine.importImage("/dev/null", "alias");
  await engine.removeImage("alias");

  await engine.remove("user1");
  await engine.removeImage("busybox");
  t.deepEqual(engine.images(), []);
  const missing = await t.throwsAsync(engine.removeImage("busybox"));
  t.is((missing as { code?: string }).code, "IMAGE_NOT_FOUND");
});
