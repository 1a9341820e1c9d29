// The sidecar's fixed ports (docs/INTERFACES.md, ARCHITECTURE.md "Ports and identities").

/** Outbound capture: the app's TCP connections are redirected here. */
export const OUTBOUND_PORT = 15001;
/** Inbound capture: TCP connections to the workload are redirected here. */
export const INBOUND_PORT = 15006;
/** Admin (config dump, ready, quit) on the workload's loopback only. */
export const ADMIN_PORT = 15000;
/** Health (`/healthz/ready`), reachable from outside the workload. */
export const HEALTH_PORT = 15021;
/** Prometheus metrics (`/metrics`), reachable from outside the workload. */
export const METRICS_PORT = 15090;
/** DNS (udp and tcp): the app's port-53 traffic is redirected here. */
export const DNS_PORT = 15053;
/** The uid and gid the sidecar runs as; traffic they own is never captured. */
export const PROXY_UID = 1337;
export const PROXY_GID = 1337;
