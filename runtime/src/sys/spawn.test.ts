import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { readTextOrEmpty } from "./files";
import { execCommand, spawnProcess } from "./spawn";

test("execCommand: exit status, output of both streams, input, env and cwd", async (t) => {
  const r = await execCommand("sh", ["-c", 'read x; echo "$x $FOO $(pwd)"; echo warn >&2; exit 7'], {
    input: "in\n",
    env: { FOO: "bar", PATH: process.env.PATH },
    cwd: "/usr",
  });
  t.deepEqual(r, { code: 7, signal: null, stdout: "in bar /usr\n", stderr: "warn\n", killed: false });
});

test("execCommand: a program that cannot start rejects with its errno code; a signal is reported by name", async (t) => {
  const err = await t.throwsAsync(execCommand("weft-no-such-tool", []));
  t.is((err as NodeJS.ErrnoException).code, "ENOENT");
  const killed = await execCommand("sh", ["-c", "kill -TERM $$"]);
  t.is(killed.code, null);
  t.is(killed.signal, "SIGTERM");
  t.false(killed.killed);
});

test("execCommand: the timeout and too much output kill the command", async (t) => {
  const slow = await execCommand("sleep", ["30"], { timeoutMs: 50 });
  t.like(slow, { code: null, signal: "SIGKILL", killed: true });
  const loud = await execCommand("cat", ["/dev/zero"], { maxBuffer: 4096 });
  t.like(loud, { signal: "SIGKILL", killed: true });
  t.is(loud.stdout.length, 4096);
});

test("spawnProcess: the child gets default signal handling, an empty mask and only the fds asked for", async (t) => {
  // Node ignores SIGPIPE; a child that inherited that would not die writing to a closed pipe.
  const r = await execCommand("sh", ["-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status; ls /proc/self/fd"]);
  const ignored = BigInt(`0x${/SigIgn:\s*([0-9a-f]+)/.exec(r.stdout)?.[1]}`);
  t.is(ignored & (1n << 12n), 0n, "SIGPIPE (13) is not ignored");
  t.regex(r.stdout, /SigBlk:\s*0+\n/);
  // 0, 1, 2, the fd ls opened for /proc/self/fd, and whatever this process itself was given without
  // close-on-exec by its parent (a test harness's); none of the pipes and files it opened.
  const inherited = readdirSync("/proc/self/fd").filter((fd) => {
    const flags = /flags:\s*([0-7]+)/.exec(readTextOrEmpty(`/proc/self/fdinfo/${fd}`))?.[1];
    return flags !== undefined && (Number.parseInt(flags, 8) & 0o2000000) === 0;
  });
  const childFds = r.stdout.split("\n").slice(2).filter(Boolean);
  t.deepEqual(
    childFds.filter((fd) => !["0", "1", "2", "3"].includes(fd) && !inherited.includes(fd)),
    [],
  );
});

test("spawnProcess: fds of this process and extra pipes become the child's fds", async (t) => {
  const file = join(tmpdir(), `wt-spawn-${process.pid}.txt`);
  t.teardown(() => rmSync(file, { force: true }));
  const fd = openSync(file, "w");
  // The child waits for this process's word on its stdin before it answers on fd 3.
  const child = spawnProcess("sh", ["-c", "echo to-file; read word; echo to-fd3 $word >&3"], {
    stdio: ["pipe", fd, "ignore", "pipe"],
  });
  closeSync(fd);
  let fd3 = "";
  child.stdio[3]?.on("data", (b: Buffer) => {
    fd3 += b.toString();
  });
  child.stdio[0]?.end("go\n");
  t.deepEqual(await child.exited, { code: 0, signal: null });
  await new Promise((resolve) => child.stdio[3]?.once("close", resolve));
  t.is(readFileSync(file, "utf8"), "to-file\n");
  t.is(fd3, "to-fd3 go\n");
  t.is(child.stdio[1], undefined);
});

test("spawnProcess: detached gets a session of its own; the exited child is reaped, not left a zombie", async (t) => {
  const child = spawnProcess("sh", ["-c", "cut -d' ' -f6 /proc/self/stat"], { detached: true });
  let out = "";
  child.stdio[1]?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  await child.exited;
  await new Promise((resolve) => child.stdio[1]?.once("close", resolve));
  t.is(Number(out), child.pid, "the session id is the child's own pid");
  t.false(existsSync(`/proc/${child.pid}`), "reaped");
  t.false(child.kill(), "kill after exit is refused, never sent to a reused pid");
});

test("spawnProcess: a child with keepAlive false does not hold the process open", async (t) => {
  const script = `
    const { spawnProcess } = await import(${JSON.stringify(join(import.meta.dirname, "spawn.ts"))});
    const c = spawnProcess("sleep", ["30"], { keepAlive: false, stdio: ["ignore", "ignore", "ignore"] });
    console.log(c.pid);`;
  const r = await execCommand(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script]);
  t.is(r.code, 0, r.stderr);
  const pid = Number(r.stdout);
  t.true(pid > 0);
  // The parent has exited while its 30 s child still runs: it did not wait for it.
  t.notThrows(() => process.kill(pid, "SIGKILL"));
});
