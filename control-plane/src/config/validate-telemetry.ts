// The Telemetry spec: tracing and logging for every sidecar (the object named "default") or for one
// service's sidecars (spec.service set), which then overrides the default.
import { invalid } from "./errors";
import type { LoggingConfig, TelemetrySpec, TracingConfig } from "./types";
import {
  boolean,
  compact,
  isAbsent,
  list,
  object,
  oneOf,
  optionalString,
  ratio,
  string,
  stringMap,
} from "./validate-fields";
import { serviceRef } from "./validate-specs";

/** The Telemetry named "default" applies to every sidecar; any other names its service. */
export function telemetrySpec(value: unknown, name: string): TelemetrySpec {
  const o = object(value ?? {}, "spec", ["service", "tracing", "logging"]);
  let service: string | undefined;
  if (name === "default") {
    if (!isAbsent(o.service) && o.service !== "")
      invalid(
        "spec.service",
        'empty on the Telemetry named "default"',
        `spec.service must be empty on the Telemetry named "default", which applies to every sidecar; give a per-service Telemetry another name`,
      );
  } else {
    service = serviceRef(o.service, "spec.service");
  }
  return compact({
    service,
    tracing: isAbsent(o.tracing) ? undefined : tracing(o.tracing, "spec.tracing"),
    logging: isAbsent(o.logging) ? undefined : logging(o.logging, "spec.logging"),
  });
}

function tracing(value: unknown, field: string): TracingConfig {
  const o = object(value, field, ["enabled", "samplingRatio", "otlpEndpoint", "resourceAttributes"]);
  const otlpEndpoint = optionalString(o.otlpEndpoint, `${field}.otlpEndpoint`);
  if (otlpEndpoint !== undefined && !isEndpoint(otlpEndpoint)) {
    invalid(`${field}.otlpEndpoint`, "an http(s):// URL or host:port (empty for the control plane)");
  }
  return compact({
    enabled: boolean(o.enabled, `${field}.enabled`),
    samplingRatio: ratio(o.samplingRatio, `${field}.samplingRatio`),
    otlpEndpoint,
    resourceAttributes: stringMap(o.resourceAttributes, `${field}.resourceAttributes`),
  });
}

function logging(value: unknown, field: string): LoggingConfig {
  const o = object(value, field, ["level", "accessLog", "fields", "samplingRatio", "sinks"]);
  const fields = isAbsent(o.fields)
    ? undefined
    : list(o.fields, `${field}.fields`).map((f, i) => string(f, `${field}.fields[${i}]`));
  const sinks = isAbsent(o.sinks)
    ? undefined
    : list(o.sinks, `${field}.sinks`).map((s, i) => {
        const sink = string(s, `${field}.sinks[${i}]`);
        if (sink !== "control-plane" && !isEndpoint(sink))
          invalid(`${field}.sinks[${i}]`, '"control-plane" or a URL');
        return sink;
      });
  return compact({
    level: isAbsent(o.level)
      ? undefined
      : oneOf(o.level, `${field}.level`, ["debug", "info", "warn", "error"] as const),
    accessLog: boolean(o.accessLog, `${field}.accessLog`),
    fields,
    samplingRatio: ratio(o.samplingRatio, `${field}.samplingRatio`),
    sinks,
  });
}

function isEndpoint(text: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      new URL(text);
      return true;
    } catch {
      return false;
    }
  }
  return /^[A-Za-z0-9.-]+:\d{1,5}$/.test(text);
}
