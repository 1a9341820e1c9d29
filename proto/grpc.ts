// The contract loaded for @grpc/grpc-js (the control plane's servers, the daemon's registration
// client, tests): proto-loader reads proto/weft/v1 with snake_case names, longs as strings and oneofs,
// the same object shapes proto/codec.ts produces for the sidecar.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType as DiscoveryProto } from "./gen/discovery";
import type { ProtoGrpcType as IdentityProto } from "./gen/identity";
import type { ProtoGrpcType as RegistrationProto } from "./gen/registration";
import type { ProtoGrpcType as TelemetryProto } from "./gen/telemetry";
import { PROTO_FILES, protoDir } from "./index";

export type WeftProto = DiscoveryProto & RegistrationProto & TelemetryProto & IdentityProto;

let cached: WeftProto | undefined;

/** Loads the contract once; options keep snake_case field names, longs as strings and oneofs. */
export function loadWeftProto(): WeftProto {
  if (cached) return cached;
  const definition = protoLoader.loadSync([...PROTO_FILES], {
    includeDirs: [protoDir()],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  cached = grpc.loadPackageDefinition(definition) as unknown as WeftProto;
  return cached;
}
