// The only module of the runtime that speaks gRPC: maps the registrar's domain types to the
// Registration.SyncEndpoints call.
import * as grpc from "@grpc/grpc-js";
import { loadWeftProto } from "../../../proto/grpc";
import {
  grpcTarget,
  type RegistrationClient,
  type SyncEndpointsRequest,
  type WireServicePort,
} from "../../../proto/index";
import type { PortSpec } from "../engine/types";
import type { SyncFn, SyncRequest } from "./types";

const CALL_TIMEOUT_MS = 5000;

function wirePorts(ports: PortSpec[]): WireServicePort[] {
  return ports.map((p) => ({ name: `${p.protocol}-${p.port}`, port: p.port, protocol: p.protocol }));
}

export function toWire(request: SyncRequest): SyncEndpointsRequest {
  return {
    source: request.source,
    endpoints: request.endpoints.map((e) => ({
      id: e.id,
      service: e.service,
      address: e.address,
      ports: wirePorts(e.ports),
      labels: e.labels,
      workload: e.workload,
      node: e.node,
      healthy: e.healthy,
      source: e.source,
    })),
    services: request.services.map((s) => ({ name: s.name, ports: wirePorts(s.ports), origin: "implied" })),
  };
}

/** A SyncFn over one long-lived client (grpc-js reconnects it by itself), and how to close it. */
export function grpcSync(address: string, token?: string): { sync: SyncFn; close: () => void } {
  const proto = loadWeftProto();
  const client: RegistrationClient = new proto.weft.v1.Registration(
    grpcTarget(address),
    grpc.credentials.createInsecure(),
  );
  // The control plane's --token, when it has one (grpc-server.ts).
  const metadata = new grpc.Metadata();
  if (token) metadata.set("authorization", `Bearer ${token}`);
  const sync: SyncFn = (request) =>
    new Promise((resolve, reject) => {
      client.SyncEndpoints(toWire(request), metadata, { deadline: Date.now() + CALL_TIMEOUT_MS }, (err) =>
        err ? reject(new Error(`SyncEndpoints to ${address}: ${err.details || err.message}`)) : resolve(),
      );
    });
  return { sync, close: () => client.close() };
}
