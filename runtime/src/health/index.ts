// Health checks (exec and HTTP) of running containers; the engine wires the monitor's results into
// the container state and registration.

export { execWithTimeout } from "./exec-process";
export {
  HEALTH_LOG_SIZE,
  type HealthDeps,
  HealthMonitor,
  initialHealth,
  nextHealth,
  type WatchTarget,
} from "./monitor";
export { capOutput, type ExecFn, httpProbe, MAX_OUTPUT_BYTES, PROBE_ERROR_EXIT } from "./probe";
