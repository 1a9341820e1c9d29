// Consul's catalog registration endpoints over the catalog source: PUT /v1/catalog/register and
// /v1/catalog/deregister (both answer true, as Consul), and the tags and checks the catalog and
// health views show for what was registered this way.
import {
  CatalogError,
  type CatalogSource,
  parseCatalogDeregistration,
  parseCatalogRegistration,
} from "../registration/catalog-source";
import { type ConsulExtras, consulServiceFields } from "./consul";
import type { Route } from "./http-server";
import { HttpError } from "./respond";

/** Tags and checks of catalog-registered endpoints. */
export function catalogConsulExtras(catalog: CatalogSource): ConsulExtras {
  return {
    tags: (e) => catalog.serviceOf(e)?.service.tags,
    nodeMeta: (e) => catalog.serviceOf(e)?.nodeMeta,
    service: (e) => {
      const s = catalog.serviceOf(e)?.service;
      return s ? consulServiceFields(s, false) : undefined;
    },
    checks: (e) => {
      const checks = catalog.serviceOf(e)?.checks;
      if (!checks || checks.length === 0) return undefined;
      return checks.map((c) => ({
        id: c.id,
        name: c.name,
        status: c.status,
        output: c.output,
        notes: c.notes,
        type: "",
      }));
    },
  };
}

/** The first of several sources' extras that knows an endpoint. */
export function mergeExtras(...all: ConsulExtras[]): ConsulExtras {
  return {
    tags: (e) => {
      for (const x of all) {
        const tags = x.tags(e);
        if (tags) return tags;
      }
      return undefined;
    },
    checks: (e) => {
      for (const x of all) {
        const checks = x.checks(e);
        if (checks) return checks;
      }
      return undefined;
    },
    nodeMeta: (e) => {
      for (const x of all) {
        const meta = x.nodeMeta?.(e);
        if (meta) return meta;
      }
      return undefined;
    },
    service: (e) => {
      for (const x of all) {
        const fields = x.service?.(e);
        if (fields) return fields;
      }
      return undefined;
    },
  };
}

function registered(fn: () => void): true {
  try {
    fn();
  } catch (err) {
    if (err instanceof CatalogError) throw new HttpError(400, err.message);
    throw err;
  }
  return true;
}

export function consulCatalogRoutes(catalog: CatalogSource): Route[] {
  return [
    {
      pattern: ["v1", "catalog", "register"],
      consul: true,
      method: "PUT",
      answer: (_params, _query, body) => {
        const parsed = parseCatalogRegistration(body.json());
        if (!parsed.ok) throw new HttpError(400, parsed.error);
        return registered(() => catalog.register(parsed.value));
      },
    },
    {
      pattern: ["v1", "catalog", "deregister"],
      consul: true,
      method: "PUT",
      answer: (_params, _query, body) => {
        const parsed = parseCatalogDeregistration(body.json());
        if (!parsed.ok) throw new HttpError(400, parsed.error);
        return registered(() => catalog.deregister(parsed.value));
      },
    },
  ];
}
