// The telemetry flags of `weft control-plane` (docs/INTERFACES.md, "Observability"), parsed here so
// the control plane's command only spreads them in.
import { UsageError } from "../../../cli/index";
import { parseDurationMs } from "./rest-params";
import type { RetentionLimits } from "./retention";

export const OTLP_GRPC_PORT = 4317;
export const OTLP_HTTP_PORT = 4318;

export const TELEMETRY_FLAGS = {
  "otlp-grpc-port": { type: "string" },
  "otlp-http-port": { type: "string" },
  "telemetry-db": { type: "string" },
  "trace-retention": { type: "string" },
  "trace-max-mb": { type: "string" },
  "log-retention": { type: "string" },
  "log-max-mb": { type: "string" },
} as const;

export const TELEMETRY_HELP = `  --otlp-grpc-port N  OTLP/gRPC trace and log receiver (default ${OTLP_GRPC_PORT}; 0 = any; when the default is
                      taken, the control plane runs without it and says so)
  --otlp-http-port N  OTLP/HTTP receiver, /v1/traces and /v1/logs (default ${OTLP_HTTP_PORT}; 0 = any)
  --telemetry-db PATH spans and logs database, its own file (default DATA_DIR/telemetry.db)
  --trace-retention D keep spans for D (default 24h; 30m, 7d, ...)
  --trace-max-mb N    keep at most N MiB of span data, oldest dropped first (default 512)
  --log-retention D   keep log lines for D (default 24h)
  --log-max-mb N      keep at most N MiB of log data (default 512)`;

type Values = { [K in keyof typeof TELEMETRY_FLAGS]: string | undefined };

function port(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`${flag} expects a port from 0 to 65535 (0 picks a free one), got "${value}"`);
  }
  return Number(value);
}

function duration(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDurationMs(value);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`${flag} expects a duration like 30m, 24h or 7d, got "${value}"`);
  return ms;
}

function mebibytes(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`${flag} expects a whole number of MiB (at least 1), got "${value}"`);
  return Number(value) * 1024 * 1024;
}

export interface TelemetryFlagOptions {
  telemetryDb?: string;
  otlpGrpcPort?: number;
  otlpHttpPort?: number;
  otlpPortBusy: "fail" | "skip";
  telemetryRetention: Partial<RetentionLimits>;
}

export function telemetryOptionsFromFlags(v: Values): TelemetryFlagOptions {
  const grpc = v["otlp-grpc-port"];
  const http = v["otlp-http-port"];
  const retention: Partial<RetentionLimits> = {
    traceMaxAgeMs: duration("--trace-retention", v["trace-retention"]),
    traceMaxBytes: mebibytes("--trace-max-mb", v["trace-max-mb"]),
    logMaxAgeMs: duration("--log-retention", v["log-retention"]),
    logMaxBytes: mebibytes("--log-max-mb", v["log-max-mb"]),
  };
  return {
    telemetryDb: v["telemetry-db"],
    otlpGrpcPort: grpc === undefined ? OTLP_GRPC_PORT : port("--otlp-grpc-port", grpc),
    otlpHttpPort: http === undefined ? OTLP_HTTP_PORT : port("--otlp-http-port", http),
    // Only ports the user asked for are worth failing over; a default one in use is reported.
    otlpPortBusy: grpc === undefined && http === undefined ? "skip" : "fail",
    telemetryRetention: Object.fromEntries(Object.entries(retention).filter(([, x]) => x !== undefined)),
  };
}
