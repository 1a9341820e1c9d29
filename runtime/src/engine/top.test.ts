import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { containerProcesses } from "./top";

/** A /proc with processes in the host's PID namespace and in a container's. */
function fakeProc(t: { teardown(fn: () => void): void }): string {
  const root = mkdtempSync(join(tmpdir(), "weft-top-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const ns = { 1: "host", 50: "host", 100: "app", 101: "app", 300: "app" } as const;
  for (const [pid, which] of Object.entries(ns)) {
    mkdirSync(join(root, pid, "ns"), { recursive: true });
    symlinkSync(which === "host" ? "pid:[4026531836]" : "pid:[4026532999]", join(root, pid, "ns", "pid"));
  }
  mkdirSync(join(root, "self"));
  return root;
}

const PS_EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 12:58 ?        00:00:10 /sbin/init
root          50       1  0 12:58 ?        00:00:00 node sidecar.mjs {"workload":"web"}
1000         100      90  0 18:04 ?        00:00:01 /usr/bin/node /app/shop.mjs catalog
1000         101     100  0 18:04 ?        00:00:00 sh -c sleep 5
root         200       1  0 18:05 ?        00:00:00 ps -ef
`;

test("only the rows of processes in the app's PID namespace, the command with its spaces", async (t) => {
  const procRoot = fakeProc(t);
  const asked: string[][] = [];
  const table = await containerProcesses(100, [], {
    procRoot,
    runPs: async (args) => {
      asked.push(args);
      return PS_EF;
    },
  });
  t.deepEqual(asked, [["-e", "-ef"]]);
  t.deepEqual(table.titles, ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]);
  t.deepEqual(table.processes, [
    ["1000", "100", "90", "0", "18:04", "?", "00:00:01", "/usr/bin/node /app/shop.mjs catalog"],
    ["1000", "101", "100", "0", "18:04", "?", "00:00:00", "sh -c sleep 5"],
  ]);
});

test("ps options without a PID column, options that are not options, and a gone app are refused", async (t) => {
  const procRoot = fakeProc(t);
  const runPs = async () => "COMMAND\nnode\n";
  await t.throwsAsync(containerProcesses(100, ["-o", "comm"], { procRoot, runPs }), {
    message: /ps -o comm prints no PID column.*use options that print it \(-ef, aux\)/,
  });
  await t.throwsAsync(containerProcesses(100, ["-ef;reboot"], { procRoot, runPs }), {
    message: /"-ef;reboot" is not a ps option/,
  });
  await t.throwsAsync(containerProcesses(999, [], { procRoot, runPs }), { message: /process 999 is gone/ });
});
