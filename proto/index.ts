// The gRPC contract in proto/weft/v1, as the wire modules see it: generated types, type URLs,
// addresses, and the schema-driven codec (codec.ts). Only wire modules import this file (and the
// generated types under proto/gen); everything else works on domain types. It loads no gRPC
// library: the sidecar's lean client (sidecar/src/grpc) uses it without grpc-js, which costs every
// sidecar tens of milliseconds and megabytes at start. grpc.ts loads the contract for grpc-js.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export { decodeMessage, encodeMessage, ProtoDecodeError, type Schema } from "./codec";
export type { CertificateAuthorityHandlers } from "./gen/weft/v1/CertificateAuthority";
export type { ConfigDiscoveryClient, ConfigDiscoveryHandlers } from "./gen/weft/v1/ConfigDiscovery";
export type { DiscoveryRequest, DiscoveryRequest__Output } from "./gen/weft/v1/DiscoveryRequest";
export type { DiscoveryResponse, DiscoveryResponse__Output } from "./gen/weft/v1/DiscoveryResponse";
export type {
  Endpoint as WireEndpoint,
  Endpoint__Output as WireEndpointOutput,
} from "./gen/weft/v1/Endpoint";
export type { LogBatch, LogBatch__Output } from "./gen/weft/v1/LogBatch";
export type { LogRecord, LogRecord__Output } from "./gen/weft/v1/LogRecord";
export type { LogSinkClient, LogSinkHandlers } from "./gen/weft/v1/LogSink";
export type { Node as WireNode, Node__Output as WireNodeOutput } from "./gen/weft/v1/Node";
export type { PushLogsResponse, PushLogsResponse__Output } from "./gen/weft/v1/PushLogsResponse";
export type { RegistrationClient, RegistrationHandlers } from "./gen/weft/v1/Registration";
export type {
  Resource as WireResource,
  Resource__Output as WireResourceOutput,
} from "./gen/weft/v1/Resource";
export type { Service as WireService, Service__Output as WireServiceOutput } from "./gen/weft/v1/Service";
export type {
  ServiceEndpoints as WireServiceEndpoints,
  ServiceEndpoints__Output as WireServiceEndpointsOutput,
} from "./gen/weft/v1/ServiceEndpoints";
export type {
  ServicePolicy as WireServicePolicy,
  ServicePolicy__Output as WireServicePolicyOutput,
} from "./gen/weft/v1/ServicePolicy";
export type {
  ServicePort as WireServicePort,
  ServicePort__Output as WireServicePortOutput,
} from "./gen/weft/v1/ServicePort";
export type {
  ServiceRoutes as WireServiceRoutes,
  ServiceRoutes__Output as WireServiceRoutesOutput,
} from "./gen/weft/v1/ServiceRoutes";
export type {
  SignCertificateRequest,
  SignCertificateRequest__Output,
} from "./gen/weft/v1/SignCertificateRequest";
export type {
  SignCertificateResponse,
  SignCertificateResponse__Output,
} from "./gen/weft/v1/SignCertificateResponse";
export type { SyncEndpointsRequest, SyncEndpointsRequest__Output } from "./gen/weft/v1/SyncEndpointsRequest";
export type {
  SyncEndpointsResponse,
  SyncEndpointsResponse__Output,
} from "./gen/weft/v1/SyncEndpointsResponse";
export type {
  TelemetryConfig as WireTelemetry,
  TelemetryConfig__Output as WireTelemetryOutput,
} from "./gen/weft/v1/TelemetryConfig";
export { SCHEMA } from "./schema";

/** Type URLs carried in DiscoveryRequest/DiscoveryResponse.type_url (see discovery.proto). */
export const TYPE_SERVICE = "weft.v1.Service";
export const TYPE_ENDPOINTS = "weft.v1.ServiceEndpoints";
export const TYPE_ROUTES = "weft.v1.ServiceRoutes";
export const TYPE_POLICY = "weft.v1.ServicePolicy";
export const TYPE_TELEMETRY = "weft.v1.Telemetry";

/** The contract's files, in dependency order. */
export const PROTO_FILES = [
  "weft/v1/resources.proto",
  "weft/v1/config.proto",
  "weft/v1/registration.proto",
  "weft/v1/discovery.proto",
  "weft/v1/telemetry.proto",
  "weft/v1/identity.proto",
] as const;

/**
 * Finds the folder holding weft/v1/*.proto: next to this module in the source tree, or next to a
 * bundle in dist/ (the build copies proto/ there), or WEFT_PROTO_DIR when set.
 */
export function protoDir(): string {
  const here = typeof __filename === "string" ? dirname(__filename) : dirname(fileURLToPath(import.meta.url));
  const candidates = [process.env.WEFT_PROTO_DIR, here, join(here, "proto"), join(here, "..", "proto")];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, "weft/v1/discovery.proto"))) return dir;
  }
  throw new Error(`cannot find weft/v1/*.proto near ${here}; set WEFT_PROTO_DIR to the proto/ folder`);
}

/**
 * Where the control plane serves OTLP/HTTP on a unix socket, next to its gRPC socket: sidecars
 * forward their apps' own OTLP/HTTP there (a workload's netns cannot reach the host's 127.0.0.1).
 * undefined when the control plane is reached over TCP.
 */
export function otlpHttpSocketFor(controlPlane: string): string | undefined {
  const target = grpcTarget(controlPlane);
  if (!target.startsWith("unix:")) return undefined;
  const path = target.replace(/^unix:(\/\/)?/, "");
  return join(dirname(path), "otlp-http.sock");
}

/**
 * Parses a control-plane gRPC address: "unix:///run/weft/cp.sock", "/run/weft/cp.sock" or
 * "127.0.0.1:15010". Returns the target string grpc-js expects.
 */
export function grpcTarget(address: string): string {
  if (address.startsWith("unix:")) return address;
  if (address.startsWith("/")) return `unix://${address}`;
  return address;
}
