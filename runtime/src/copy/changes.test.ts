// A container's changes from its overlay's upper directory over its image's layers, with real
// whiteouts (0/0 character devices, as overlayfs makes them) and opaque directories made by a real
// overlay mount (needs root, as the runtime does).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { weftSys } from "../sys/native";
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

/** An overlay of `lowers` (top first) with `upper`, mounted for `fn` and unmounted after, as a container's. */
function withOverlay(dir: string, lowers: string[], upper: string, fn: (merged: string) => void): void {
  const merged = mkdtempSync(join(dir, "merged-"));
  const work = mkdtempSync(join(dir, "work-"));
  weftSys().mount(
    "overlay",
    merged,
    "overlay",
    0,
    `lowerdir=${lowers.join(":")},upperdir=${upper},workdir=${work}`,
  );
  try {
    fn(merged);
  } finally {
    weftSys().umount2(merged, 0);
  }
}

test("a directory deleted and made again (opaque): what the image had there is deleted, not hidden", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-changes-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [base, top, upper] = ["base", "top", "upper"].map((d) => join(dir, d)) as [string, string, string];
  for (const d of [base, top, upper]) mkdirSync(d);
  mkdirSync(join(base, "etc", "ssl", "certs"), { recursive: true });
  writeFileSync(join(base, "etc", "ssl", "openssl.cnf"), "x");
  writeFileSync(join(base, "etc", "ssl", "certs", "ca.pem"), "x");
  writeFileSync(join(base, "etc", "ssl", "kept"), "x");
  mkdirSync(join(base, "opt", "old"), { recursive: true });
  writeFileSync(join(base, "opt", "old", "bin"), "x");
  // The image's top layer made /opt again: base's /opt/old is not in the image.
  withOverlay(dir, [base], top, (m) => {
    rmSync(join(m, "opt"), { recursive: true });
    mkdirSync(join(m, "opt", "new"), { recursive: true });
  });
  t.is(
    weftSys().lgetxattr(join(top, "opt"), "trusted.overlay.opaque")?.toString(),
    "y",
    "overlayfs marked it",
  );
  // The container's doing, through a real overlay as runc's rootfs is.
  withOverlay(dir, [top, base], upper, (m) => {
    rmSync(join(m, "etc", "ssl"), { recursive: true });
    mkdirSync(join(m, "etc", "ssl", "certs"), { recursive: true });
    writeFileSync(join(m, "etc", "ssl", "kept"), "made again");
    writeFileSync(join(m, "etc", "ssl", "fresh"), "y");
    writeFileSync(join(m, "opt", "new", "tool"), "z");
  });
  t.deepEqual(
    containerChanges(upper, [top, base], []).map((c) => `${changeLetter(c.kind)} ${c.path}`),
    [
      "C /etc",
      "C /etc/ssl",
      "C /etc/ssl/certs",
      "D /etc/ssl/certs/ca.pem",
      "A /etc/ssl/fresh",
      "C /etc/ssl/kept",
      "D /etc/ssl/openssl.cnf",
      "C /opt",
      "C /opt/new",
      "A /opt/new/tool",
    ],
  );
});
