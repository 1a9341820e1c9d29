import test from "ava";
import { parseSyncRequest } from "./validate";

test("a valid request becomes domain values: empty protocol is auto, missing healthy is true", (t) => {
  const r = parseSyncRequest({
    source: "agent",
    endpoints: [
      {
        id: "e1",
        service: "web",
        address: "10.0.0.5",
        ports: [{ port: 80 }, { port: "8080", protocol: "http" }],
      },
    ],
    services: [{ name: "web", ports: [{ port: 80, protocol: "" }] }],
  });
  t.true(r.ok);
  if (!r.ok) return;
  t.deepEqual(r.value.endpoints[0], {
    id: "e1",
    service: "web",
    address: "10.0.0.5",
    ports: [
      { name: "", port: 80, protocol: "auto" },
      { name: "", port: 8080, protocol: "http" },
    ],
    labels: {},
    workload: "",
    node: "",
    healthy: true,
  });
  t.deepEqual(r.value.declarations, [
    { name: "web", ports: [{ name: "", port: 80, protocol: "auto" }], labels: {} },
  ]);
});

test("each problem names its field", (t) => {
  const cases: Array<[unknown, string]> = [
    [null, "request must be an object"],
    [{ source: 3 }, "source must be a string"],
    [{ source: "a", endpoints: {} }, "endpoints must be a list"],
    [
      { source: "a", endpoints: [{ id: "x", service: "s", address: "1.2.3.4", healthy: "yes" }] },
      "endpoints[0].healthy must be true or false",
    ],
    [
      { source: "a", endpoints: [{ id: "x", service: "s", address: "1.2.3.4", labels: { "": "v" } }] },
      "endpoints[0].labels has an empty key",
    ],
    [
      {
        source: "a",
        endpoints: [{ id: "x", service: "s", address: "1.2.3.4", ports: [{ port: 80 }, { port: 80 }] }],
      },
      "endpoints[0].ports[1].port 80 is listed twice",
    ],
    [{ source: "a", services: [{ name: "s" }, { name: "s" }] }, 'services[1].name "s" is declared twice'],
    [
      { source: "a", endpoints: [{ id: "x\ny", service: "s", address: "1.2.3.4" }] },
      'endpoints[0].id "x\\ny" must not hold control characters',
    ],
  ];
  for (const [input, message] of cases) {
    const r = parseSyncRequest(input);
    t.deepEqual(r, { ok: false, error: message });
  }
  // Addresses no sidecar can connect to a workload at; loopback stays (one host's own workloads).
  const at = (address: string) =>
    parseSyncRequest({ source: "a", endpoints: [{ id: "x", service: "s", address }] });
  for (const [address, reason] of [
    ["0.0.0.0", /"0.0.0.0" is the unspecified address/],
    ["255.255.255.255", /multicast, broadcast or reserved/],
    ["224.0.0.251", /multicast, broadcast or reserved/],
    // Sidecars route IPv4 only: an IPv6 endpoint made every sidecar refuse the service's endpoints.
    ["::", /"::" is an IPv6 address; weft's mesh routes IPv4/],
    ["fd00::5", /IPv6/],
    ["ff02::1", /IPv6/],
    ["db.local", /is not an IP address/],
  ] as const) {
    const r = at(address);
    t.false(r.ok, address);
    if (!r.ok) t.regex(r.error, reason);
  }
  for (const address of ["127.0.0.1", "10.0.0.5", "223.255.255.254"]) t.true(at(address).ok, address);
  // A container's label may hold anything (an image's multi-line description): it must not stop the
  // node's registration.
  const labelled = parseSyncRequest({
    source: "a",
    endpoints: [{ id: "x", service: "s", address: "1.2.3.4", labels: { description: "one\ntwo" } }],
  });
  t.true(labelled.ok);
});
