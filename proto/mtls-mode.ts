// How a service's sidecars take mesh traffic (Service.mtls_mode in resources.proto), shared by the
// control plane (which validates and fills in its default) and the sidecar (which enforces it).
// The names and meanings are Istio's PeerAuthentication modes.

export const MTLS_MODES = ["PERMISSIVE", "STRICT", "DISABLE"] as const;

/**
 * PERMISSIVE: callers with a sidecar use mutual TLS, anyone else may send plain text (the default).
 * STRICT: the service's sidecars refuse connections that are not mutual TLS from a mesh sidecar.
 * DISABLE: callers send plain text to the service, and its sidecars accept it.
 */
export type MtlsMode = (typeof MTLS_MODES)[number];

/**
 * The endpoint label the daemon sets on a workload it gave a sidecar (Istio's
 * security.istio.io/tlsMode): callers may open mutual TLS to it. Endpoints without it (Consul agent
 * registrations, workloads run without a sidecar) get plain text.
 */
export const TLS_MODE_LABEL = "weft.io/tls-mode";
export const TLS_MODE_MUTUAL = "mtls";

export function isMtlsMode(value: unknown): value is MtlsMode {
  return typeof value === "string" && (MTLS_MODES as readonly string[]).includes(value);
}
