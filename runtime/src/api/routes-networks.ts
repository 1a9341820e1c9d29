// Weft API routes for named networks (engine/networks.ts): list, create, inspect, rm, connect and
// disconnect. A network's containers are answered as {id, name, address}, not whole states.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NetworkInfo } from "../engine/networks";
import type { ContainerState } from "../engine/types";
import { RuntimeError } from "../errors";
import type { NamedNetwork, NetworkCreate } from "../network/named-networks";
import { readJson, sendJson } from "./http";

/** What these routes need of the engine. */
export interface NetworksApi {
  listNetworks(): NetworkInfo[];
  inspectNetwork(ref: string): NetworkInfo;
  createNetwork(c: NetworkCreate): NamedNetwork;
  removeNetwork(ref: string): void;
  connect(ref: string, network: string, aliases: string[]): Promise<ContainerState>;
  disconnect(ref: string, network: string): Promise<ContainerState>;
}

/** A network as the API answers it. */
export type NetworkJson = NamedNetwork & { containers: Array<{ id: string; name: string; address: string }> };

function invalid(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}

function networkJson(n: NetworkInfo): NetworkJson {
  return { ...n, containers: n.containers.map((c) => ({ id: c.id, name: c.name, address: c.address })) };
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v) || !Object.values(v).every((x) => typeof x === "string"))
    throw invalid(`${field} must be an object of strings`);
  return v as Record<string, string>;
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const b = (await readJson(req)) ?? {};
  if (typeof b !== "object" || Array.isArray(b)) throw invalid("body must be a JSON object");
  return b as Record<string, unknown>;
}

function containerOf(b: Record<string, unknown>): string {
  if (typeof b.container !== "string" || b.container === "")
    throw invalid("container is required (a name or id)");
  return b.container;
}

type Handler = (engine: NetworksApi, req: IncomingMessage, res: ServerResponse, ref: string) => Promise<void>;

export const networkRoutes: Array<{ method: string; path: RegExp; handler: Handler }> = [
  {
    method: "GET",
    path: /^\/networks$/,
    handler: async (engine, _req, res) => sendJson(res, 200, engine.listNetworks().map(networkJson)),
  },
  {
    method: "POST",
    path: /^\/networks\/create$/,
    handler: async (engine, req, res) => {
      const b = await body(req);
      if (typeof b.name !== "string") throw invalid("name is required (the network's name)");
      sendJson(res, 201, engine.createNetwork({ name: b.name, labels: stringMap(b.labels, "labels") }));
    },
  },
  {
    method: "GET",
    path: /^\/networks\/([^/]+)$/,
    handler: async (engine, _req, res, ref) => sendJson(res, 200, networkJson(engine.inspectNetwork(ref))),
  },
  {
    method: "DELETE",
    path: /^\/networks\/([^/]+)$/,
    handler: async (engine, _req, res, ref) => {
      engine.removeNetwork(ref);
      res.writeHead(204).end();
    },
  },
  {
    method: "POST",
    path: /^\/networks\/([^/]+)\/connect$/,
    handler: async (engine, req, res, ref) => {
      const b = await body(req);
      const aliases = b.aliases ?? [];
      if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === "string" && a !== ""))
        throw invalid("aliases must be an array of names");
      sendJson(res, 200, await engine.connect(containerOf(b), ref, aliases as string[]));
    },
  },
  {
    method: "POST",
    path: /^\/networks\/([^/]+)\/disconnect$/,
    handler: async (engine, req, res, ref) => {
      sendJson(res, 200, await engine.disconnect(containerOf(await body(req)), ref));
    },
  },
];
