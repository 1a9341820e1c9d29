import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { LogReader, parseK8sLine, streamLog } from "./logs";

test("a k8s-file line keeps the app's bytes: full lines get their newline back, partial ones do not", (t) => {
  t.deepEqual(parseK8sLine("2026-11-29T14:26:08.094155727+00:00 stdout F hello"), {
    time: "2026-11-29T14:26:08.094155727Z",
    stream: "stdout",
    data: Buffer.from("hello\n"),
  });
  t.deepEqual(parseK8sLine("2026-11-29T14:26:08.1+00:00 stderr P / # ")?.data, Buffer.from("/ # "));
  t.is(parseK8sLine("not a log line"), undefined);
});

test("output that is not UTF-8, or a character split between two writes, reads back byte for byte", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-logs-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "ctr.log");
  const euro = Buffer.from("€"); // e2 82 ac
  const head = (tag: string) => Buffer.from(`2026-11-29T14:26:08.1+00:00 stdout ${tag} `);
  appendFileSync(
    path,
    Buffer.concat([head("P"), Buffer.from([0xff, 0x00]), euro.subarray(0, 1), Buffer.from("\n")]),
  );
  const reader = new LogReader(path);
  appendFileSync(path, Buffer.concat([head("F"), euro.subarray(1), Buffer.from("\n")]));
  const data = Buffer.concat(reader.readNew().map((e) => e.data));
  t.deepEqual(data, Buffer.concat([Buffer.from([0xff, 0x00]), euro, Buffer.from("\n")]));
});

test("a follow from now on (tail 0) starts where the log ends when it is made, not when it is first read", async (t) => {
  // The builder attaches to a RUN's container, starts it, and only then reads: what a quick command
  // wrote in between is its output, not history to skip.
  const dir = mkdtempSync(join(tmpdir(), "weft-logs-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "ctr.log");
  appendFileSync(path, "2026-11-29T14:26:08.1+00:00 stdout F before\n");
  let finished = false;
  const output = streamLog(
    path,
    { stdout: true, stderr: true, follow: true, tail: 0 },
    { done: () => finished, sleep: async () => {}, pollMs: 1 },
  );
  appendFileSync(path, "2026-11-29T14:26:08.2+00:00 stdout F after\n");
  finished = true;
  const lines: string[] = [];
  for await (const e of output) lines.push(e.data.toString());
  t.deepEqual(lines, ["after\n"]);
});
