import test from "ava";
import { SidecarError } from "../errors";
import { ConfigStore } from "./store";
import { parseEndpoint, parseService } from "./validate";

const web = { name: "web", virtual_ip: "10.96.0.10", ports: [{ name: "http", port: 80, protocol: "http" }] };

test("a good service becomes a ServiceConfig with auto (detect) as the default protocol", (t) => {
  const s = parseService({ ...web, ports: [{ port: 80, protocol: "HTTP" }, { port: 9000 }] }, "s");
  t.deepEqual(s.ports, [
    { name: "", port: 80, protocol: "http" },
    { name: "", port: 9000, protocol: "auto" },
  ]);
});

test("bad fields are refused with a message naming the field", (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ ...web, virtual_ip: "10.96.0" }, /s\.virtual_ip "10\.96\.0" is not an IPv4 address/],
    [{ ...web, name: "Web_1" }, /s\.name "Web_1" is not a DNS label/],
    [{ ...web, ports: [{ port: 0 }] }, /s\.ports\[0\]\.port must be an integer from 1 to 65535/],
    [
      { ...web, ports: [{ port: 80, protocol: "sctp" }] },
      /s\.ports\[0\]\.protocol must be one of auto, http/,
    ],
    [{ ...web, ports: [{ port: 80 }, { port: 80 }] }, /port 80 twice/],
    ["web", /s must be an object/],
  ];
  for (const [value, message] of cases) {
    const err = t.throws(() => parseService(value, "s"), { instanceOf: SidecarError });
    t.is(err?.code, "INVALID_CONFIG");
    t.regex(err?.message ?? "", message);
  }
  t.throws(() => parseEndpoint({ address: "host.example" }, "e"), { message: /e\.address "host\.example"/ });
});

test("a conflicting update changes nothing: the last good config keeps serving", (t) => {
  const store = new ConfigStore();
  const good = parseService(web, "s");
  store.applyServices({ resources: new Map([["web", good]]), removed: [], incremental: false }, "v1");
  const clash = parseService({ ...web, name: "api" }, "s");
  t.throws(
    () =>
      store.applyServices(
        {
          resources: new Map([
            ["web", good],
            ["api", clash],
          ]),
          removed: [],
          incremental: false,
        },
        "v2",
      ),
    { message: /"web" and "api" both claim 10\.96\.0\.10:80/ },
  );
  t.is(store.versions.services, "v1");
  t.is(store.serviceAt("10.96.0.10", 80)?.service.name, "web");
});

test("incremental updates add and remove by name; ready once services are accepted", (t) => {
  const store = new ConfigStore();
  store.applyServices(
    { resources: new Map([["web", parseService(web, "s")]]), removed: [], incremental: false },
    "1",
  );
  t.true(store.ready, "endpoints come per service, on demand: services are enough to be ready");
  const api = parseService({ name: "api", virtual_ip: "10.96.0.11", ports: [{ port: 9000 }] }, "s");
  store.applyServices({ resources: new Map([["api", api]]), removed: ["web"], incremental: true }, "2");
  t.deepEqual(store.serviceNames(), ["api"]);
  t.false(store.hasEndpoints("api"));
  store.applyEndpoints({ resources: new Map([["api", []]]), removed: [], incremental: false }, "1");
  t.true(store.hasEndpoints("api"), "an empty list is an answer: the service has no endpoints");
});
