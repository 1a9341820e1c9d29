// A container's changes from its overlay's upper directory over its image's layers, with real
// whiteouts (0/0 character devices, as overlayfs makes them; needs root, as the runtime does).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { changeLetter, containerChanges } from "./changes";

test("added, changed and deleted paths; directories only when something under them changed", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-changes-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [base, top, upper] = ["base", "top", "upper"].map((d) => join(dir, d)) as [string, string, string];
  for (const d of [base, top, upper]) mkdirSync(d);
  mkdirSync(join(base, "etc"));
  writeFileSync(join(base, "etc", "passwd"), "root");
  writeFileSync(join(base, "etc", "group"), "root");
  writeFileSync(join(base, "etc", "gone-in-image"), "x");
  mkdirSync(join(top, "etc"));
  execFileSync("mknod", [join(top, "etc", "gone-in-image"), "c", "0", "0"]); // the image deleted it
  mkdirSync(join(base, "var", "log"), { recursive: true });

  mkdirSync(join(upper, "etc"));
  writeFileSync(join(upper, "etc", "passwd"), "root\napp"); // copied up and changed
  execFileSync("mknod", [join(upper, "etc", "group"), "c", "0", "0"]); // deleted
  writeFileSync(join(upper, "etc", "gone-in-image"), "back"); // deleted by the image: added again
  writeFileSync(join(upper, "etc", "hosts"), ""); // the engine's mount point
  mkdirSync(join(upper, "var", "log"), { recursive: true }); // copied up, nothing changed in it
  mkdirSync(join(upper, "srv", "app"), { recursive: true });
  writeFileSync(join(upper, "srv", "app", "state"), "1");
  mkdirSync(join(upper, "data")); // a volume's mount point
  mkdirSync(join(upper, "dev", "pts"), { recursive: true }); // runc's

  const changes = containerChanges(upper, [top, base], ["/etc/hosts", "/data"]);
  t.deepEqual(
    changes.map((c) => `${changeLetter(c.kind)} ${c.path}`),
    [
      "C /etc",
      "A /etc/gone-in-image",
      "D /etc/group",
      "C /etc/passwd",
      "A /srv",
      "A /srv/app",
      "A /srv/app/state",
    ],
  );
});
