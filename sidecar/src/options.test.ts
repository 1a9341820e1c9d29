import test from "ava";
import { UsageError } from "../../cli/index";
import { parseSidecarFlags, resolvConfSearch } from "./options";

test("the flags of docs/INTERFACES.md parse, with the fixed ports by default", (t) => {
  const o = parseSidecarFlags([
    "--control-plane",
    "unix:///run/weft/cp.sock",
    "--workload",
    "shop",
    "--address",
    "10.88.0.2",
    "--port",
    "8080/http",
    "--port",
    "5432",
    "--port",
    "3306/server-first",
    "--port",
    "50051/GRPC",
    "--label",
    "version=v2",
    "--admin-port",
    "0",
  ]);
  t.is(o.nodeId, "shop");
  t.deepEqual(
    [...o.ports],
    [
      [8080, "http"],
      [5432, "auto"],
      [3306, "server-first"],
      [50051, "grpc"],
    ],
  );
  t.is(o.detectTimeoutMs, 100);
  t.deepEqual(o.labels, { version: "v2" });
  t.deepEqual(o.listen, {
    outbound: 15001,
    inbound: 15006,
    admin: 0,
    health: 15021,
    metrics: 15090,
    dns: 15053,
  });
});

test("minimal flags work and missing or bad ones are usage errors", (t) => {
  const o = parseSidecarFlags([
    "--control-plane",
    "127.0.0.1:15010",
    "--workload",
    "w",
    "--dns-search",
    "a.b",
  ]);
  t.deepEqual(o.dnsSearch, ["a.b"]);
  t.throws(() => parseSidecarFlags(["--workload", "w"]), {
    instanceOf: UsageError,
    message: /--control-plane is required/,
  });
  t.throws(() => parseSidecarFlags(["--control-plane", "x:1", "--workload", "w", "--port", "80/udp"]), {
    message: /--port expects PORT or PORT\/PROTO \(auto, http, http2, grpc, tcp, server-first\)/,
  });
  t.throws(
    () => parseSidecarFlags(["--control-plane", "x:1", "--workload", "w", "--detect-timeout-ms", "x"]),
    {
      message: /--detect-timeout-ms expects milliseconds/,
    },
  );
  const dns = parseSidecarFlags(["--control-plane", "x:1", "--workload", "w", "--dns-upstream", "10.88.0.1"]);
  t.is(dns.upstreamDns, "10.88.0.1");
});

test("search domains come from resolv.conf", (t) => {
  t.deepEqual(resolvConfSearch("nameserver 1.1.1.1\nsearch svc.local Corp.example.\n"), [
    "svc.local",
    "corp.example",
  ]);
});
