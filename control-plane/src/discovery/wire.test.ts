// What a Telemetry manifest becomes on the wire: the defaults the manifest format documents, filled
// in where a field was left out, since proto3 cannot tell a left-out field from a zero or an empty
// list, and the sidecar reads the wire literally (sampling 0 keeps only errors; no sink, no lines).
import test from "ava";
import { parseTelemetry } from "../../../sidecar/src/config/validate-config";
import type { TelemetrySpec } from "../config/types";
import type { ConfigObject } from "./config-source";
import { telemetryResource } from "./wire";

function manifest(spec: TelemetrySpec): ConfigObject<TelemetrySpec> {
  return {
    apiVersion: "weft.dev/v1",
    kind: "Telemetry",
    metadata: { name: "default", labels: {}, version: 3, createdAt: "", updatedAt: "" },
    spec,
  };
}

test("a Telemetry manifest that leaves fields out reaches the sidecar with the documented defaults", (t) => {
  const wire = telemetryResource(
    "default",
    manifest({ tracing: {}, logging: { accessLog: true } }),
    "v3",
  ).wire;
  const settings = parseTelemetry(wire.telemetry, "telemetry", "default");
  t.like(settings.tracing, { enabled: true, samplingRatio: 1 });
  t.like(settings.logging, { accessLog: true, level: "info", samplingRatio: 1, sinks: ["control-plane"] });
});

test("explicit zeros and an empty sink list are kept", (t) => {
  const spec: TelemetrySpec = {
    tracing: { enabled: false, samplingRatio: 0 },
    logging: { accessLog: true, samplingRatio: 0, sinks: [] },
  };
  const wire = telemetryResource("default", manifest(spec), "v3").wire;
  const settings = parseTelemetry(wire.telemetry, "telemetry", "default");
  t.like(settings.tracing, { enabled: false, samplingRatio: 0 });
  t.like(settings.logging, { samplingRatio: 0, sinks: [] });
});
