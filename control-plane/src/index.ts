// The control plane's public surface: its CLI commands and a way to run it in-process.
import type { Command } from "../../cli/index";
import { controlPlaneCliCommands } from "./cli";
import { configCommands } from "./config-cli";
import { kvCommands } from "./kv-cli";
import { telemetryCommands } from "./telemetry/index";

export const controlPlaneCommands: Command[] = [
  ...controlPlaneCliCommands,
  ...configCommands,
  ...kvCommands,
  ...telemetryCommands,
];

export type { EndpointView, ServiceSummary } from "./api/rest";
export type { ConfigChange, ConfigKind, ConfigObject, ConfigStore } from "./config/index";
export type { ProxyStatus, TypeStatus } from "./discovery/proxy-status";
export { ControlPlaneError } from "./errors";
export type { Endpoint, Service, ServicePort, ServiceRegistry } from "./registry/types";
export type { ControlPlaneOptions, RunningControlPlane } from "./server";
export { startControlPlane } from "./server";
export type { LogView, MeshLogsOptions, TraceSummary, TraceView } from "./telemetry/index";
export { formatLogLine, streamMeshLogs } from "./telemetry/index";
