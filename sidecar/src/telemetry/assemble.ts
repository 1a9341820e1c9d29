// Builds the sidecar's telemetry (tracer, access log, log shipper) and keeps it in step with the
// control plane's telemetry config. Loaded with a dynamic import after start, so the OpenTelemetry
// SDK and winston cost nothing on the way to ready.
import type { ConfigStore } from "../config/store";
import { AccessLog } from "./access-log";
import { LogShipper } from "./log-shipper";
import { logSinkSender } from "./log-sink-client";
import { RequestTelemetry } from "./request-telemetry";
import { spanExporterFor } from "./span-exporters";
import { MeshTracer } from "./tracing";

export interface AssembledTelemetry {
  hooks: RequestTelemetry;
  shipper: LogShipper;
  /** Exports queued spans, sends buffered lines (bounded by the sink's deadline), stops. */
  close(): Promise<void>;
}

export function assembleTelemetry(o: {
  controlPlane: string;
  workload: string;
  service: string;
  nodeId: string;
  store: ConfigStore;
  log: (message: string) => void;
}): AssembledTelemetry {
  const sender = logSinkSender(o.controlPlane);
  let failures = 0;
  const shipper = new LogShipper({
    send: sender.send,
    // One message per outage, not one per batch.
    onError: (err) => {
      if (failures++ === 0) o.log(`log sink unreachable, buffering (bounded) and retrying: ${err.message}`);
    },
  });
  const identity = { workload: o.workload, service: o.service, nodeId: o.nodeId };
  const tracer = new MeshTracer({
    ...identity,
    exporterFor: (endpoint) => spanExporterFor(endpoint, o.controlPlane),
  });
  const hooks = new RequestTelemetry(tracer, new AccessLog({ ...identity, shipper }));
  const apply = () => {
    try {
      hooks.configure(o.store.telemetryFor(o.service || o.workload));
    } catch (err) {
      // Validated before it was stored; a failure here (an exporter refusing its endpoint) keeps
      // the previous settings rather than stopping traffic.
      o.log(`telemetry config not applied: ${(err as Error).message}`);
    }
  };
  o.store.onTelemetry(apply);
  apply();
  return {
    hooks,
    shipper,
    close: async () => {
      await tracer.shutdown();
      await shipper.close();
      sender.close();
    },
  };
}
