// Which containers a list shows for `--filter KEY=VALUE` (weft ps) and the Docker API's `filters`
// (docker ps --filter), with Docker's meaning of each key: values of one key are alternatives, but
// labels must all match (docker-compose tells a project's services from its one-off `run`s by
// com.docker.compose.oneoff=False beside the project's label); different keys must all match.
import { sameImageName } from "../image/index";
import { networksOf } from "../network/named-networks";
import type { ContainerState } from "./types";

/** The keys a container list can be filtered by. */
export const CONTAINER_FILTER_KEYS = [
  "name",
  "id",
  "label",
  "status",
  "ancestor",
  "exited",
  "health",
  "service",
  "network",
] as const;

export type ContainerFilters = Map<string, string[]>;

/** The key a filter map holds that no container has, or undefined when every key is known. */
export function unknownFilterKey(filters: ContainerFilters): string | undefined {
  return [...filters.keys()].find((k) => !(CONTAINER_FILTER_KEYS as readonly string[]).includes(k));
}

/** status= and exited= are about containers that are not running: they list stopped ones too. */
export function filtersNeedAll(filters: ContainerFilters): boolean {
  return filters.has("status") || filters.has("exited");
}

export function matchesFilters(filters: ContainerFilters, s: ContainerState): boolean {
  const check = (key: string, test: (v: string) => boolean) => {
    const values = filters.get(key);
    return !values || values.length === 0 || values.some(test);
  };
  return (
    // A paused container's status is "paused", as Docker's: status=running leaves it out.
    check("status", (v) => v === (s.paused ? "paused" : s.status)) &&
    // Docker matches a name filter anywhere in the name ("web" finds "shop-web-1").
    check("name", (v) => s.name.includes(v.replace(/^\//, ""))) &&
    check("id", (v) => s.id.startsWith(v)) &&
    (filters.get("label") ?? []).every((v) => {
      const [k, val] = v.split(/=(.*)/s);
      return k !== undefined && (val === undefined ? k in s.labels : s.labels[k] === val);
    }) &&
    check("network", (v) => v in networksOf(s)) &&
    // By name in either form ("busybox", "busybox:latest") or by the image's id.
    check(
      "ancestor",
      (v) =>
        sameImageName(s.image, v) ||
        (/^(sha256:)?[0-9a-f]{4,64}$/.test(v) && s.imageId.startsWith(v.replace(/^sha256:/, ""))),
    ) &&
    check("exited", (v) => s.status === "exited" && String(s.exitCode ?? "") === v) &&
    check("health", (v) => (s.health?.status ?? "none") === v) &&
    check("service", (v) => s.service === v)
  );
}
