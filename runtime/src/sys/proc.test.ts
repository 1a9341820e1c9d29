// processRuns against real node processes (multithreaded, as the sidecar is): once it says a stopped
// process is gone, its listening socket is closed.
import { spawn } from "node:child_process";
import test from "ava";
import { connectResult } from "../network/testing";
import { processRuns } from "./proc";

test("a stopped node process counts as running until its last thread is gone, sockets and all", async (t) => {
  // Loopback addresses of this test's own; the port is the OS's pick.
  const net = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}`;
  for (let i = 0; i < 10; i++) {
    const host = `${net}.${2 + i}`;
    const child = spawn(
      process.execPath,
      [
        "-e",
        `const s = require("net").createServer().listen(0, "${host}", () => console.log(s.address().port))`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    t.teardown(() => child.kill("SIGKILL"));
    const port = Number(
      await new Promise<string>((r) => child.stdout.once("data", (d: Buffer) => r(String(d)))),
    );
    t.true(processRuns(child.pid as number));
    t.is(await connectResult(port, host), "connected");
    child.kill("SIGTERM");
    while (processRuns(child.pid as number)) await new Promise((r) => setTimeout(r, 1));
    t.is(
      await connectResult(port, host),
      "ECONNREFUSED",
      `try ${i + 1}: gone, yet its socket took a connection`,
    );
  }
  t.false(processRuns(2 ** 22 + 1), "a pid above pid_max runs nothing");
});
