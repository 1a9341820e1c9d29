import test from "ava";
import { UsageError } from "../../../cli/index";
import { meshLogsArgs } from "./logs";

test("weft logs --service takes docker's flags, as weft mesh-logs takes them", (t) => {
  const now = new Date("2026-12-03T12:00:00Z");
  t.deepEqual(meshLogsArgs(["--service", "ratings", "-n", "2", "-t"], now), [
    "--service",
    "ratings",
    "--tail",
    "2",
  ]);
  t.deepEqual(meshLogsArgs(["--service=ratings", "--tail", "all", "--level", "error"], now), [
    "--service",
    "ratings",
    "--level",
    "error",
    "--tail",
    "5000",
  ]);
  t.deepEqual(meshLogsArgs(["--service", "s", "--since", "1796299200"], now), [
    "--service",
    "s",
    "--since",
    "2026-12-03T12:00:00.000Z",
  ]);
  t.deepEqual(meshLogsArgs(["--service", "s", "--since", "10m", "-q", "timed out", "-f"], now), [
    "--service",
    "s",
    "--grep",
    "timed out",
    "--follow",
    "--since",
    "10m",
  ]);
  // docker logs -f --tail 0: only new lines; without -f, nothing at all.
  t.deepEqual(meshLogsArgs(["--service", "s", "-f", "--tail", "0"], now), [
    "--service",
    "s",
    "--follow",
    "--since",
    "0s",
  ]);
  t.deepEqual(meshLogsArgs(["--service", "s", "-n", "0"], now), []);
  t.deepEqual(meshLogsArgs(["--service", "s", "-n", "9000"], now), ["--service", "s", "--tail", "5000"]);
});

test("weft logs --service refuses what mesh-logs cannot do, saying what to use", (t) => {
  t.throws(() => meshLogsArgs(["--service", "s", "--until", "1m"]), {
    instanceOf: UsageError,
    message: /--until is not taken with --service; use --since/,
  });
  t.throws(() => meshLogsArgs(["--service", "s", "shop-ratings-1"]), {
    instanceOf: UsageError,
    message: /give a CONTAINER without --service/,
  });
  t.throws(() => meshLogsArgs(["--service", "s", "--tail", "ten"]), { message: /--tail expects a number/ });
  t.throws(() => meshLogsArgs(["--service", "s", "--since", "yesterday"]), {
    message: /--since expects a time/,
  });
});
