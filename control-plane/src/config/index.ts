// The config model's public surface inside the control plane: the store the push consumes, the
// validation the API uses, and the names of the kinds.
export { ConfigError, type ConfigErrorCode, ConfigValidationError } from "./errors";
export { CONFIG_KINDS, isConfigKind, kindFromPlural, pluralOf, qualifiedName, resolveKind } from "./kinds";
export { type ParsedDocument, parseDocuments } from "./parse";
export {
  type ConfigServiceRegistry,
  SqliteConfigStore,
  type SqliteConfigStoreOptions,
} from "./sqlite-config-store";
export type {
  ApplyResult,
  ChangeType,
  CircuitBreaker,
  ConfigChange,
  ConfigDocument,
  ConfigKind,
  ConfigMetadata,
  ConfigObject,
  ConfigStore,
  HistoryEntry,
  LoggingConfig,
  OutlierDetection,
  ResiliencePolicySpec,
  RetryPolicy,
  RouteMatch,
  RouteRule,
  RouteSpec,
  ServicePortSpec,
  ServiceSpec,
  SpecByKind,
  TelemetrySpec,
  TracingConfig,
  WeightedSubset,
} from "./types";
export { API_VERSION } from "./types";
export { validateDocument, validateDocuments } from "./validate";
