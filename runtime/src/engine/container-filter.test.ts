import test from "ava";
import { filtersNeedAll, matchesFilters, unknownFilterKey } from "./container-filter";
import type { ContainerState } from "./types";

const base = {
  id: "7257ecff1ba8f0cc43599ed64e989341c5cccaa7630da81bc94fac16741d0739",
  name: "shop-catalog-1",
  image: "shop",
  imageId: "4965ab299dedf18194fda973c50debfe58583cfe7bd2e28d694b0b506d351281",
  status: "running",
  service: "catalog",
  labels: { "weft.project": "shop", tier: "back" },
} as unknown as ContainerState;
const exited = { ...base, name: "job", status: "exited", exitCode: 3, service: undefined } as ContainerState;
const healthy = {
  ...base,
  name: "web",
  health: { status: "healthy", failingStreak: 0, log: [] },
} as ContainerState;

const names = (filters: Record<string, string[]>) => {
  const f = new Map(Object.entries(filters));
  return [base, exited, healthy].filter((c) => matchesFilters(f, c)).map((c) => c.name);
};

test("each key as docker ps reads it", (t) => {
  t.deepEqual(names({}), ["shop-catalog-1", "job", "web"]);
  t.deepEqual(names({ name: ["catalog"] }), ["shop-catalog-1"], "part of the name");
  t.deepEqual(names({ id: ["7257ec"] }), ["shop-catalog-1", "job", "web"], "an id prefix");
  t.deepEqual(names({ label: ["tier"] }), ["shop-catalog-1", "job", "web"]);
  t.deepEqual(names({ label: ["tier=front"] }), []);
  t.deepEqual(names({ status: ["exited"] }), ["job"]);
  t.deepEqual(names({ exited: ["3"] }), ["job"]);
  t.deepEqual(names({ exited: ["0"] }), []);
  t.deepEqual(names({ health: ["healthy"] }), ["web"]);
  t.deepEqual(names({ health: ["none"] }), ["shop-catalog-1", "job"]);
  t.deepEqual(names({ service: ["catalog"] }), ["shop-catalog-1", "web"]);
});

test("labels must all match, as docker-compose's project and one-off labels need", (t) => {
  // compose lists a project's services with both labels and its one-off runs with oneoff=True:
  // with the labels as alternatives, every container showed up in both lists.
  t.deepEqual(names({ label: ["weft.project=shop", "tier=back"] }), ["shop-catalog-1", "job", "web"]);
  t.deepEqual(names({ label: ["weft.project=shop", "tier=front"] }), []);
  t.deepEqual(names({ label: ["weft.project=shop", "oneoff"] }), []);
});

test("network: the default one, or the named networks a container is on", (t) => {
  const onNet = { ...base, name: "api", networks: { dc_default: { aliases: ["api"] } } } as ContainerState;
  const all = [base, onNet];
  const by = (v: string) =>
    all.filter((c) => matchesFilters(new Map([["network", [v]]]), c)).map((c) => c.name);
  t.deepEqual(by("dc_default"), ["api"]);
  t.deepEqual(by("weft"), ["shop-catalog-1"]);
});

test("images match by any of their names or by id", (t) => {
  for (const v of ["shop", "shop:latest", "docker.io/library/shop:latest", "4965ab29", "sha256:4965ab29"]) {
    t.deepEqual(names({ ancestor: [v], name: ["catalog"] }), ["shop-catalog-1"], v);
  }
  t.deepEqual(names({ ancestor: ["shop:v2"] }), []);
});

test("values of one key are alternatives; keys must all match", (t) => {
  t.deepEqual(names({ name: ["job", "web"] }), ["job", "web"]);
  t.deepEqual(names({ name: ["job", "web"], status: ["running"] }), ["web"]);
});

test("status and exited list stopped containers; an unknown key is named", (t) => {
  t.true(filtersNeedAll(new Map([["status", ["exited"]]])));
  t.true(filtersNeedAll(new Map([["exited", ["0"]]])));
  t.false(filtersNeedAll(new Map([["name", ["x"]]])));
  t.is(
    unknownFilterKey(
      new Map([
        ["name", ["x"]],
        ["colour", ["red"]],
      ]),
    ),
    "colour",
  );
  t.is(unknownFilterKey(new Map([["name", ["x"]]])), undefined);
});
