import test from "ava";
import type { EndpointConfig } from "../config/types";
import { RoundRobin } from "./round-robin";

const ep = (id: string, ports: EndpointConfig["ports"] = []): EndpointConfig => ({
  id,
  service: "web",
  address: `10.0.0.${id}`,
  ports,
  labels: {},
  workload: `w${id}`,
  node: "n",
  healthy: true,
});
const http80 = { name: "http", port: 80, protocol: "http" as const };

test("endpoints take turns", (t) => {
  const rr = new RoundRobin();
  const eps = [ep("1"), ep("2"), ep("3")];
  const picked = Array.from({ length: 6 }, () => rr.pick("web", eps, http80)?.endpoint.id);
  t.deepEqual(picked, ["1", "2", "3", "1", "2", "3"]);
});

test("each service has its own turn", (t) => {
  const rr = new RoundRobin();
  const eps = [ep("1"), ep("2")];
  t.is(rr.pick("a", eps, http80)?.endpoint.id, "1");
  t.is(rr.pick("b", eps, http80)?.endpoint.id, "1");
  t.is(rr.pick("a", eps, http80)?.endpoint.id, "2");
});

test("no endpoints picks nothing", (t) => {
  t.is(new RoundRobin().pick("web", [], http80), undefined);
});

test("a named endpoint port serves the service port of that name", (t) => {
  const rr = new RoundRobin();
  t.is(rr.pick("web", [ep("1", [{ name: "http", port: 8080, protocol: "http" }])], http80)?.port, 8080);
  t.is(rr.pick("web", [ep("1")], http80)?.port, 80);
});
